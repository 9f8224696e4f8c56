"""Fixtures for the Azure blob source: a real Azurite for the session, and helpers.

Azurite comes from ``package.json`` (``npm ci`` installs ``node_modules/.bin/azurite-blob``).
If it is missing the tests using it FAIL (a test skipped in CI does not exist).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO / "node_modules" / ".bin" / "azurite-blob"

#: The well-known Azurite development account (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def read_list_sas(container: str) -> str:
    """A container SAS of the Azurite account that can read and list, valid for an hour."""
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(ACCOUNT, container, account_key=KEY,
                                  permission=ContainerSasPermissions(read=True, list=True),
                                  expiry=datetime.now(timezone.utc) + timedelta(hours=1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Azurite:
    """One azurite-blob process on 127.0.0.1:port, stopped and started by its PID."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "azurite.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint={self.endpoint};")

    def start(self, timeout: float = 60.0) -> None:
        if not AZURITE_BIN.exists():
            pytest.fail(f"{AZURITE_BIN} is missing: run `npm ci` at the repository top "
                        f"(package.json pins azurite 3.35.0)", pytrace=False)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                 "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
                 ],
                cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"azurite-blob exited with {self.proc.returncode}: "
                            f"{self.log.read_text(errors='replace')[-2000:]}", pytrace=False)
            try:
                urllib.request.urlopen(f"{self.endpoint}?comp=list", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers (403 without a signature)
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"azurite-blob did not answer on port {self.port} within {timeout:.0f} s", pytrace=False)

    def stop(self, hard: bool = False) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop (hard) and start again on the same port; in-memory data is lost."""
        self.stop(hard=True)
        self.start()

    def pause(self, seconds: float) -> threading.Timer:
        """Freeze the process (SIGSTOP) and let it go on (SIGCONT) after ``seconds``."""
        assert self.proc is not None
        pid = self.proc.pid
        os.kill(pid, signal.SIGSTOP)
        timer = threading.Timer(seconds, os.kill, (pid, signal.SIGCONT))
        timer.start()
        return timer

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Azurite:
    """A running Azurite blob service for the whole session."""
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def service(azurite: Azurite):
    """A BlobServiceClient on a clean account (every container deleted first)."""
    from azure.storage.blob import BlobServiceClient

    if not azurite.running:
        azurite.start()
    client = BlobServiceClient.from_connection_string(azurite.connection_string)
    for c in client.list_containers():
        client.delete_container(c.name)
    return client


def upload_tree(service, root: Path) -> list[str]:
    """Upload a local tree laid out as ``{container}/{blob name}``; return ``container/blob`` keys."""
    keys = []
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        container, _, blob = rel.partition("/")
        cc = service.get_container_client(container)
        if not cc.exists():
            cc.create_container()
        cc.upload_blob(blob, path.read_bytes(), overwrite=True)
        keys.append(rel)
    return keys


# -- test data: both layouts, several hours, MACs, NSGs and flow logs ----------------
SUB1 = "00000000-0000-0000-0000-000000000001"
SUB2 = "00000000-0000-0000-0000-000000000002"
HOURS = [f"2024-05-01T{h:02d}:00Z" for h in (8, 9, 10, 11, 12)]


def _vnet_blob(hour: str, mac: str, fl_id: str, seed: int, n_records: int = 3) -> list[dict]:
    from flowkit.synth import record_time, vnet_record, vnet_tuple

    import pandas as pd

    base = int(pd.Timestamp(hour).timestamp())
    records = []
    for r in range(n_records):
        t0 = base + 60 * (r * 7 + seed % 5) + 30
        tuples = [vnet_tuple((t0 - 20 + k) * 1000, "10.10.1.4", f"198.51.100.{(seed + k) % 250 + 1}",
                             40000 + r * 10 + k, 443, 6, "O", "C" if k else "B", "NX",
                             (3 + k, 700 + r, 2, 1500 + seed)) for k in range(2)]
        records.append(vnet_record(record_time(t0, 1234567), f"guid-{seed}", mac, fl_id,
                                   "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
                                   [("00000000-0000-0000-0000-000000000000",
                                     [("DefaultRule_AllowInternetOutBound", tuples)])]))
    return records


def _nsg_blob(hour: str, mac: str, nsg_id: str, seed: int, n_records: int = 3) -> list[dict]:
    from flowkit.synth import nsg_record, nsg_v2_tuple, record_time

    import pandas as pd

    base = int(pd.Timestamp(hour).timestamp())
    records = []
    for r in range(n_records):
        t0 = base + 60 * (r * 9 + seed % 4) + 15
        tuples = [nsg_v2_tuple(t0 - 10 + k, f"203.0.113.{(seed + k) % 250 + 1}", "10.10.2.4",
                               50000 + r * 10 + k, 3389, 6, "I", "D", "B") for k in range(2)]
        records.append(nsg_record(record_time(t0, 7654321), f"sys-{seed}", mac, nsg_id, 2,
                                  [("DefaultRule_DenyAllInBound", tuples)]))
    return records


def real_case(name: str) -> str:
    """Azure writes ``resourceId=`` / ``flowLogResourceID=`` in mixed case, the rest upper-case."""
    for root in ("resourceId=", "flowLogResourceID="):
        if name.upper().startswith(root.upper()):
            return root + name[len(root):]
    return name


def write_estate(root: Path) -> dict[str, list[str]]:
    """Write blobs as ``root/{container}/{blob name}``; return container -> blob names."""
    from flowkit.sources.layout import NSG_CONTAINER, VNET_CONTAINER, nsg_blob_name, vnet_blob_name
    from flowkit.synth import blob_bytes

    out: dict[str, list[str]] = {NSG_CONTAINER: [], VNET_CONTAINER: []}
    seed = 0

    def put(container: str, name: str, records: list[dict]) -> None:
        name = real_case(name)
        path = root / container / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob_bytes(records))
        out[container].append(name)

    for hour in HOURS:
        for fl in ("FL-A", "FL-B"):
            fl_id = (f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/"
                     f"NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/{fl}")
            for mac in ("000D3A000101", "000D3A000102"):
                seed += 1
                put(VNET_CONTAINER, vnet_blob_name(SUB1, "NetworkWatcherRG", "NetworkWatcher_eastus", fl, hour, mac),
                    _vnet_blob(hour, mac, fl_id, seed))
        seed += 1
        put(VNET_CONTAINER, vnet_blob_name(SUB2, "NetworkWatcherRG", "NetworkWatcher_westus", "fl-short",
                                           hour, "000D3A000201", short=True),
            _vnet_blob(hour, "000D3A000201", "/FL-SHORT", seed))
        for nsg in ("NSG-WEB", "NSG-APP"):
            nsg_id = f"/SUBSCRIPTIONS/{SUB1}/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{nsg}"
            for mac in ("000D3A000101", "000D3A000201"):
                seed += 1
                put(NSG_CONTAINER, nsg_blob_name(SUB1, "RG-APP", nsg, hour, mac), _nsg_blob(hour, mac, nsg_id, seed))
    # pre-2018 NSG blobs: no macAddress= level
    for hour in ("2017-06-01T10:00Z", "2017-06-01T11:00Z"):
        seed += 1
        nsg_id = f"/SUBSCRIPTIONS/{SUB2}/RESOURCEGROUPS/RG-OLD/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-OLD"
        put(NSG_CONTAINER, nsg_blob_name(SUB2, "RG-OLD", "NSG-OLD", hour), _nsg_blob(hour, "000D3A000301", nsg_id, seed))
    return out


@pytest.fixture()
def estate(service, tmp_path: Path) -> Path:
    """The estate of :func:`write_estate`, written under ``tmp_path/tree`` and uploaded to Azurite."""
    root = tmp_path / "tree"
    write_estate(root)
    upload_tree(service, root)
    return root
