"""Transient storage errors (HTTP 5xx, 408, 429) while following and reading, against a real Azurite.

A small HTTP proxy on 127.0.0.1 stands in front of Azurite: it forwards every request, except
those its ``fail`` predicate picks, which it answers the way Azure Storage does when a
partition is busy (503 ``ServerBusy`` with Azure's XML error body and ``x-ms-error-code``).
A follower waits such a period out as an outage (:mod:`flowkit.sources.outage`) and delivers
every tuple once; a period longer than ``max_outage`` ends it with a clear error; a one-shot
read fails with one. The follower's clock and sleeps are fake (no waiting); the SDK's own
retries are real, kept to one retry after 20 ms.
"""

from __future__ import annotations

import http.client
import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pandas as pd
import pytest

import flowkit
from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.sources import follow as follow_module
from flowkit.sources.azure import AzureBlobSource
from flowkit.sources.azure_auth import TRANSIENT_STATUSES, UnavailableError, UnreachableError
from flowkit.sources.azure_host import retry_policy
from flowkit.sources.follow import Follower
from flowkit.sources.layout import VNET_CONTAINER, vnet_blob_name
from flowkit.sources.outage import MAX_OUTAGE, back_warning, lost_warning

from conftest import ACCOUNT, KEY
from secrets_check import assert_no_secret, exception_texts
from test_follow_delivery import LiveBlob, _final, _same_rows
from test_follow_delivery import _record as delivery_record

HOUR = pd.Timestamp("2024-05-01T10:00Z")
REASONS = {408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout", 400: "Bad Request", 409: "Conflict",
           501: "Not Implemented", 505: "HTTP Version Not Supported"}
MESSAGES = {"ServerBusy": "The server is currently unable to receive requests. Please retry your request.",
            "InternalError": "The server encountered an internal error. Please retry the request.",
            "OperationTimedOut": "The operation could not be completed within the permitted time."}
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


class FaultProxy:
    """Forwards HTTP to Azurite; answers ``status``/``code`` to the requests ``fail(method, path)`` picks.

    ``seen`` lists ``(method, path, status answered)`` of every request, in order.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.fail = lambda method, path: False
        self.status, self.code = 503, "ServerBusy"
        self.seen: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects

            def log_message(self, *args) -> None:
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.fail(self.command, self.path):
                    return self.refuse()
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body,
                                 headers={k: v for k, v in self.headers.items() if k.lower() not in _HOP})
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                proxy.note(self.command, self.path, resp.status)
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP and (k.lower() != "content-length" or self.command == "HEAD"):
                        self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def refuse(self) -> None:
                status, code = proxy.status, proxy.code
                proxy.note(self.command, self.path, status)
                text = MESSAGES.get(code, "")
                data = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>' + code + "</Code><Message>" + text
                        + "\nRequestId:00000000-0000-0000-0000-000000000000\nTime:2024-05-01T10:30:00.0000000Z"
                          "</Message></Error>").encode() if code else b"<html><body>gateway</body></html>"
                self.send_response(status, REASONS.get(status))
                self.send_header("Content-Type", "application/xml" if code else "text/html")
                if code:
                    self.send_header("x-ms-error-code", code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def note(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.seen.append((method, path, status))

    def refused(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return [s for s in self.seen if s[2] == self.status]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def proxy(azurite, service):
    p = FaultProxy(azurite.port)
    try:
        yield p
    finally:
        p.close()


def everything(method: str, path: str) -> bool:
    return True


def downloads(method: str, path: str) -> bool:
    """A blob's bytes (not its block list, properties or a listing)."""
    return method == "GET" and "comp=" not in path and "restype=" not in path


def _one_fast_retry() -> dict:
    """Source options: the SDK retries once, after 20 ms (flowkit's own policy, with a shorter back-off)."""
    policy = retry_policy(initial_backoff=0.01, increment_base=0.01, random_jitter_range=0, retry_total=1,
                          retry_connect=1, retry_read=1, retry_status=1)
    return {"retry_total": 1, "client_kwargs": {"retry_policy": policy}}


def _source(proxy: FaultProxy, **kw) -> AzureBlobSource:
    """Azurite through the proxy, with :func:`_one_fast_retry`."""
    conn = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={proxy.endpoint};")
    return AzureBlobSource.from_connection_string(conn, connection_timeout=5, read_timeout=10, **_one_fast_retry(),
                                                  **kw)


def _name(mac: str, hour: pd.Timestamp = HOUR) -> str:
    return vnet_blob_name("00000000-0000-0000-0000-000000000001", "NetworkWatcherRG", "NetworkWatcher_eastus",
                          "fl-outage", hour, mac)


def _started(service, mac: str) -> LiveBlob:
    """The VNet blob of ``mac`` for ``HOUR``, its minute-0 record committed."""
    blob = LiveBlob(service, _name(mac))
    blob.add(delivery_record(HOUR, mac, 0))
    return blob


class FakeTime:
    """``time`` for the follower: ``sleep`` advances ``monotonic`` at once and runs what is due at that sleep."""

    def __init__(self, at: dict[int, object] | None = None) -> None:
        self.now, self.sleeps, self.at = 0.0, 0, at or {}

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        if self.sleeps in self.at:
            self.at[self.sleeps]()


def _run(monkeypatch, follower: Follower, fake: FakeTime, frames: list | None = None,
         **run_args) -> tuple[list, list[str]]:
    """Run the follower on ``fake`` time; the frames it yields go to ``frames`` (kept when it raises)."""
    monkeypatch.setattr(follow_module, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep))
    frames = [] if frames is None else frames
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in follower.run(**run_args):
            frames.append(batch.frame)
    return frames, [str(w.message) for w in caught]


# -- following through a busy period ----------------------------------------------------------
def test_follow_waits_out_a_503_period_on_downloads_and_delivers_every_tuple_once(
        azurite, proxy, service, tmp_path, monkeypatch):
    mac = "000D3A0000F1"
    blob = _started(service, mac)
    cp = tmp_path / "cp.json"

    def busy() -> None:  # two records committed, then Azure answers 503 to every download
        blob.add(delivery_record(HOUR, mac, 1))
        blob.add(delivery_record(HOUR, mac, 2))
        proxy.fail = downloads

    def over() -> None:
        proxy.fail = lambda method, path: False
        blob.add(delivery_record(HOUR, mac, 3))

    follower = Follower(_source(proxy), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=lambda: HOUR + pd.Timedelta(minutes=30))
    fake = FakeTime({1: busy, 3: over})
    frames, said = _run(monkeypatch, follower, fake, interval=60, max_polls=3, max_outage=300)
    assert [len(f) for f in frames] == [2, 6, 0]  # minute 0; minutes 1 to 3 after the busy period; nothing
    assert fake.sleeps == 4  # polls 2 and 3 failed
    # each failed poll: one download, asked twice (the SDK's one retry), answered 503 both times
    assert [(m, s) for m, _, s in proxy.refused()] == [("GET", 503)] * 4
    assert said == [
        f"flowkit: the storage account answered with errors at 2024-05-01T10:30:00Z; polling again every 60 s, "
        f"for up to 300 s: the storage account {proxy.endpoint} answered HTTP 503 ServerBusy while reading "
        f"(container '{VNET_CONTAINER}', blob '{_name(mac)}') after retries: a transient error (busy, throttled "
        f"or failing over). Try again later",
        back_warning("2024-05-01T10:30:00Z", 2)]
    assert_no_secret("\n".join(said), KEY)
    _same_rows(frames, _final(azurite, HOUR))
    assert len(Follower(_source(proxy), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=lambda: HOUR + pd.Timedelta(minutes=31)).poll()) == 0


def test_a_503_period_longer_than_max_outage_ends_the_follow_with_the_error_and_the_checkpoint_carries_on(
        azurite, proxy, service, tmp_path, monkeypatch):
    mac = "000D3A0000F2"
    blob = _started(service, mac)
    cp = tmp_path / "cp.json"

    def busy() -> None:
        blob.add(delivery_record(HOUR, mac, 1))
        proxy.fail = everything

    follower = Follower(_source(proxy), log_type="vnet", checkpoint=cp, start=HOUR,
                        clock=lambda: HOUR + pd.Timedelta(minutes=30))
    fake = FakeTime({1: busy})
    frames: list = []
    with pytest.raises(UnavailableError) as info:
        _run(monkeypatch, follower, fake, frames, interval=60, max_outage=150)
    assert [len(f) for f in frames] == [2]
    # polls fail at 60, 120, 180 and 240 s: the outage has lasted 180 s >= 150 s at the fourth
    assert fake.sleeps == 4 and fake.now == 240
    exc = info.value
    assert isinstance(exc, UnreachableError) and (exc.status, exc.code) == (503, "ServerBusy")
    text = str(exc)
    assert text.startswith(f"the storage account {proxy.endpoint} answered HTTP 503 ServerBusy while listing "
                           f"(container '{VNET_CONTAINER}', prefix 'flowLogResourceID=/")
    assert text.endswith(") after retries: a transient error (busy, throttled or failing over). Try again later")
    assert_no_secret(exception_texts(exc), KEY)
    proxy.fail = lambda method, path: False
    monkeypatch.undo()
    blob.add(delivery_record(HOUR, mac, 2))
    frames += [b.frame for b in Follower(_source(proxy), log_type="vnet", checkpoint=cp, start=HOUR,
                                         clock=lambda: HOUR + pd.Timedelta(minutes=31)).run(max_polls=1)]
    assert [len(f) for f in frames] == [2, 4]  # minute 0; minutes 1 and 2, once
    _same_rows(frames, _final(azurite, HOUR))


def test_a_follow_started_while_the_account_answers_503_waits_for_it(azurite, proxy, service, monkeypatch):
    # The account answered (busy): the address is right, so the follow waits, as in an outage.
    mac = "000D3A0000F3"
    _started(service, mac)
    proxy.fail = everything

    def over() -> None:
        proxy.fail = lambda method, path: False

    fake = FakeTime({2: over})
    frames, said = _run(monkeypatch, Follower(_source(proxy), log_type="vnet", start=HOUR,
                                              clock=lambda: HOUR + pd.Timedelta(minutes=30)),
                        fake, interval=60, max_polls=1, max_outage=300)
    assert [len(f) for f in frames] == [2]
    assert fake.sleeps == 2  # polls 1 and 2 answered 503; poll 3 delivered
    assert said[0].startswith("flowkit: the storage account answered with errors at 2024-05-01T10:30:00Z; "
                              "polling again every 60 s, for up to 300 s: the storage account "
                              f"{proxy.endpoint} answered HTTP 503 ServerBusy while listing")
    assert said[1:] == [back_warning("2024-05-01T10:30:00Z", 2)]


def test_a_follow_started_on_an_account_answering_only_503_ends_after_max_outage(
        azurite, proxy, service, monkeypatch):
    proxy.fail = everything
    fake = FakeTime()
    with pytest.raises(UnavailableError, match=r"answered HTTP 503 ServerBusy while listing"):
        _run(monkeypatch, Follower(_source(proxy), log_type="vnet", start=HOUR,
                                   clock=lambda: HOUR + pd.Timedelta(minutes=30)), fake, interval=60,
             max_outage=120)
    assert fake.sleeps == 2 and fake.now == 120  # failed at 0, 60 and 120 s


def test_a_follow_started_on_an_address_where_nothing_answers_fails_at_once(monkeypatch):
    # No server at that port: nothing ever answered, the address is likely wrong.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    conn = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};")
    source = AzureBlobSource.from_connection_string(conn, connection_timeout=2, read_timeout=2, **_one_fast_retry())
    fake = FakeTime()
    with pytest.raises(UnreachableError) as info:
        _run(monkeypatch, Follower(source, log_type="vnet", start=HOUR,
                                   clock=lambda: HOUR + pd.Timedelta(minutes=30)), fake, interval=60)
    assert not isinstance(info.value, UnavailableError)
    assert fake.sleeps == 0
    assert_no_secret(exception_texts(info.value), KEY)


def test_a_4xx_while_following_ends_the_follow_at_once(azurite, proxy, service, monkeypatch):
    mac = "000D3A0000F4"
    _started(service, mac)

    def refuse() -> None:
        proxy.status, proxy.code, proxy.fail = 409, "LeaseIdMissing", everything

    fake = FakeTime({1: refuse})
    with pytest.raises(SourceError) as info:
        _run(monkeypatch, Follower(_source(proxy), log_type="vnet", start=HOUR,
                                   clock=lambda: HOUR + pd.Timedelta(minutes=30)), fake, interval=60)
    assert not isinstance(info.value, UnreachableError)
    assert str(info.value).startswith(f"storage error while listing (container '{VNET_CONTAINER}'")
    assert str(info.value).endswith("): HTTP 409 LeaseIdMissing")
    assert fake.sleeps == 1  # not polled again
    refused = [path for _, path, _ in proxy.refused()]  # the listings of the hours, each asked once
    assert refused and len(refused) == len(set(refused))  # not retried by the SDK


# -- which answers are transient -----------------------------------------------------------------
@pytest.mark.parametrize("status, code, asked, transient", [
    pytest.param(503, "ServerBusy", 2, True, id="503-ServerBusy"),
    pytest.param(500, "InternalError", 2, True, id="500-InternalError"),
    pytest.param(500, "OperationTimedOut", 2, True, id="500-OperationTimedOut"),
    pytest.param(502, "", 2, True, id="502-gateway-html"),
    pytest.param(504, "", 2, True, id="504-gateway-html"),
    pytest.param(408, "", 2, True, id="408-retried-by-the-sdk"),
    pytest.param(429, "", 1, True, id="429-not-retried-by-the-sdk"),
    pytest.param(400, "InvalidQueryParameterValue", 1, False, id="400"),
    pytest.param(501, "", 1, False, id="501"),
    pytest.param(505, "", 1, False, id="505"),
])
def test_which_answers_are_transient(azurite, proxy, service, status, code, asked, transient):
    proxy.status, proxy.code, proxy.fail = status, code, everything
    with pytest.raises(SourceError) as info:
        _source(proxy, container=VNET_CONTAINER).list_blobs(log_type="vnet", start=HOUR,
                                                            end=HOUR + pd.Timedelta(hours=1))
    assert len(proxy.seen) == asked
    assert isinstance(info.value, UnavailableError) is transient
    assert isinstance(info.value, UnreachableError) is transient
    word = code or REASONS[status]
    if transient:
        assert (info.value.status, info.value.code) == (status, word)
        assert str(info.value).startswith(f"the storage account {proxy.endpoint} answered HTTP {status} {word} "
                                          f"while listing (container '{VNET_CONTAINER}'")
        assert (" after retries: a transient error" in str(info.value)) is (status != 429)
    else:
        assert str(info.value).startswith(f"storage error while listing (container '{VNET_CONTAINER}'")
        assert str(info.value).endswith(f"): HTTP {status} {word}")
    assert set(TRANSIENT_STATUSES) == {408, 429, 500, 502, 503, 504}


# -- one-shot reads -------------------------------------------------------------------------------
def test_read_flow_logs_of_a_busy_account_fails_with_a_clear_error(azurite, proxy, service):
    mac = "000D3A0000F5"
    _started(service, mac)
    proxy.fail = downloads  # listed fine; every download busy
    with pytest.raises(UnavailableError) as info:
        flowkit.read_flow_logs(_source(proxy), log_type="vnet", start=HOUR, end=HOUR + pd.Timedelta(hours=1))
    assert str(info.value) == (f"the storage account {proxy.endpoint} answered HTTP 503 ServerBusy while reading "
                               f"(container '{VNET_CONTAINER}', blob '{_name(mac)}') after retries: a transient "
                               f"error (busy, throttled or failing over). Try again later")
    assert_no_secret(exception_texts(info.value), KEY)


def test_inspect_of_an_azurite_sas_url_through_a_busy_proxy_says_so_without_the_sas(
        azurite, proxy, service, capsys, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    mac = "000D3A0000F6"
    _started(service, mac)
    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    real = AzureBlobSource.from_url.__func__
    monkeypatch.setattr(AzureBlobSource, "from_url", classmethod(
        lambda cls, url, **kw: real(cls, url, **kw, **_one_fast_retry())))
    proxy.fail = everything
    status = cli_main(["inspect", f"{proxy.endpoint}/{VNET_CONTAINER}?{sas}", "--log-type", "vnet",
                       "--start", HOUR.isoformat(), "--end", (HOUR + pd.Timedelta(hours=1)).isoformat()])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith(f"flowkit inspect: error: the storage account {proxy.endpoint} answered HTTP 503 "
                          f"ServerBusy while listing (container '{VNET_CONTAINER}'")
    assert err.endswith("after retries: a transient error (busy, throttled or failing over). Try again later\n")
    assert_no_secret(err, signature, KEY)
    assert urlsplit(proxy.endpoint).netloc in err and "sig=" not in err and quote(signature, safe="") not in err


def test_cli_follow_ends_with_the_error_after_max_outage_of_503(azurite, proxy, service, tmp_path, capsys,
                                                                monkeypatch):
    hour = pd.Timestamp.now(tz="UTC").floor("h")  # the CLI follows by the real clock
    mac = "000D3A0000F7"
    LiveBlob(service, _name(mac, hour)).add(delivery_record(hour, mac, 0))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string.replace(
        f":{azurite.port}/", f":{proxy.port}/"))
    real = AzureBlobSource.from_url.__func__
    monkeypatch.setattr(AzureBlobSource, "from_url", classmethod(
        lambda cls, url, **kw: real(cls, url, **kw, **_one_fast_retry())))
    fake = FakeTime({1: lambda: setattr(proxy, "fail", everything)})
    monkeypatch.setattr(follow_module, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = cli_main(["follow", f"azure://{ACCOUNT}", "--log-type", "vnet", "--checkpoint",
                           str(tmp_path / "cp.json"), "--start", hour.isoformat(), "--interval", "60",
                           "--max-outage", "100", "--json"])
    out, err = capsys.readouterr()
    assert status == 2
    assert [json.loads(line)["rows"] for line in out.splitlines()] == [2]
    assert fake.sleeps == 3  # failed at 60, 120 and 180 s: 120 s >= 100 s
    assert len(caught) == 1
    assert str(caught[0].message).startswith("flowkit: the storage account answered with errors at ")
    assert (f"; polling again every 60 s, for up to 100 s: the storage account {proxy.endpoint} answered HTTP 503 "
            f"ServerBusy while listing") in str(caught[0].message)
    assert err.startswith(f"flowkit follow: error: the storage account {proxy.endpoint} answered HTTP 503 "
                          f"ServerBusy while listing")
    assert_no_secret(err + "\n".join(str(w.message) for w in caught), KEY)


# -- one constant ---------------------------------------------------------------------------------
def test_the_default_max_outage_is_one_constant_everywhere():
    import inspect as pyinspect

    from flowkit.cli import build_parser

    assert MAX_OUTAGE == 900.0
    assert pyinspect.signature(Follower.run).parameters["max_outage"].default is MAX_OUTAGE
    assert pyinspect.signature(AzureBlobSource.follow).parameters["max_outage"].default is MAX_OUTAGE
    args = build_parser().parse_args(["follow", "azure://acct", "--checkpoint", "cp.json"])
    assert args.max_outage is MAX_OUTAGE
    assert follow_module.MAX_OUTAGE is MAX_OUTAGE


def test_the_outage_warnings_name_what_failed():
    busy = UnavailableError("the storage account answered HTTP 503 ServerBusy", 503, "ServerBusy")
    assert lost_warning(busy, "2024-05-01T10:07:00Z", 60, None) == (
        "flowkit: the storage account answered with errors at 2024-05-01T10:07:00Z; polling again every 60 s: "
        "the storage account answered HTTP 503 ServerBusy")
    assert lost_warning(UnreachableError("no route"), "2024-05-01T10:07:00Z", 0.5, 900) == (
        "flowkit: the storage account did not answer at 2024-05-01T10:07:00Z; polling again every 0.5 s, "
        "for up to 900 s: no route")


def test_an_unavailable_error_keeps_its_text_status_and_code_when_copied_or_pickled():
    import copy
    import pickle

    exc = UnavailableError("the storage account answered HTTP 503 ServerBusy", 503, "ServerBusy")
    for again in (copy.copy(exc), pickle.loads(pickle.dumps(exc))):
        assert type(again) is UnavailableError
        assert (str(again), again.status, again.code) == (str(exc), 503, "ServerBusy")
