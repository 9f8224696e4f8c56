"""The local mirror: blob names that try to escape the cache folder are refused."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

import flowkit

from flowkit.sources.azure import AzureBlobRef, AzureBlobSource
from flowkit.sources.blob_cache import BlobCache, UnsafeBlobName, is_sealed, safe_parts
from flowkit.sources.layout import NSG_CONTAINER, BlobMeta

UNSAFE = [
    pytest.param("../escape/PT1H.json", id="dotdot"),
    pytest.param("a/../../b.json", id="dotdot-inside"),
    pytest.param("/etc/passwd", id="absolute"),
    pytest.param("//server/share/x", id="unc-slashes"),
    pytest.param("C:\\Windows\\x", id="drive-backslash"),
    pytest.param("C:/x", id="drive"),
    pytest.param("..\\..\\x", id="backslash-dotdot"),
    pytest.param("%2e%2e/%2e%2e/x.json", id="encoded-dots"),
    pytest.param("%2E%2E%2F%2E%2E%2Fetc", id="encoded-slash"),
    pytest.param("%252e%252e%252fetc", id="double-encoded"),
    pytest.param("%2Fetc%2Fpasswd", id="encoded-absolute"),
    pytest.param("a/./b", id="dot-segment"),
    pytest.param("a//b", id="empty-segment"),
    pytest.param("~/x", id="home"),
    pytest.param("a/b\x00c", id="nul"),
    pytest.param("x/PT1H.json.flowkit-meta", id="reserved-suffix"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_names_are_refused(name, tmp_path):
    with pytest.raises(UnsafeBlobName):
        safe_parts(name)
    cache = BlobCache(tmp_path / "cache")
    assert cache.put("devstoreaccount1", NSG_CONTAINER, name, b"x", etag="1") is False
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_safe_layout_names_are_kept(tmp_path):
    name = ("resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/"
            "NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000101/PT1H.json")
    cache = BlobCache(tmp_path / "cache")
    assert cache.put("acct", NSG_CONTAINER, name, b"{}", etag="1")
    assert cache.get("acct", NSG_CONTAINER, name, "1") == b"{}"
    assert [e.blob for e in cache.entries("acct", NSG_CONTAINER)] == [name]


def test_symlink_inside_cache_cannot_lead_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = BlobCache(tmp_path / "cache")
    (tmp_path / "cache" / "acct" / NSG_CONTAINER).mkdir(parents=True)
    os.symlink(outside, tmp_path / "cache" / "acct" / NSG_CONTAINER / "link")
    with pytest.raises(UnsafeBlobName, match="outside the cache"):
        cache.path_for("acct", NSG_CONTAINER, "link/PT1H.json")
    assert cache.put("acct", NSG_CONTAINER, "link/PT1H.json", b"x", etag="1") is False
    assert list(outside.iterdir()) == []


def test_sealed_means_hour_over_and_settled():
    now = pd.Timestamp("2024-05-01T11:20Z")
    assert is_sealed(pd.Timestamp("2024-05-01T10:00Z"), None, now)
    assert not is_sealed(pd.Timestamp("2024-05-01T10:00Z"), None, now - pd.Timedelta(minutes=10))
    assert not is_sealed(None, now - pd.Timedelta(minutes=5), now)


STORED = [  # names Azurite keeps (a backslash upload becomes "a/../../b.json")
    "/abs/PT1H.json",
    "a\\..\\..\\b.json",
    "%2e%2e/%2e%2e/x.json",
    "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/"
    "%2E%2E/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000101/PT1H.json",
]


def test_blobs_named_to_escape_are_read_but_never_written_outside(azurite, service, tmp_path):
    cc = service.get_container_client(NSG_CONTAINER)
    cc.create_container()
    for name in STORED:
        cc.upload_blob(name, b'{"records":[]}', overwrite=True)
    stored = {b.name for b in cc.list_blobs()}
    assert stored == {n.replace("\\", "/") for n in STORED}
    assert "a/../../b.json" in stored
    cache = tmp_path / "deep" / "er" / "cache"
    src = AzureBlobSource.from_connection_string(azurite.connection_string, cache_dir=cache, retry_backoff=0.1)
    sealed = BlobMeta(hour=pd.Timestamp("2024-05-01T10:00Z"))
    refs = [AzureBlobRef(name=f"{NSG_CONTAINER}/{n}", meta=sealed, container=NSG_CONTAINER, blob=n)
            for n in sorted(stored)]
    # a '..' segment cannot even be addressed by URL (normalised away): a clear error, no file
    dotdot = [r for r in refs if r.blob == "a/../../b.json"]
    refs = [r for r in refs if r.blob != "a/../../b.json"]
    with pytest.raises(flowkit.SourceError, match="a/../../b.json"):
        list(src.iter_bytes(dotdot))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = dict(src.iter_bytes(refs))
    assert all(v == b'{"records":[]}' for v in got.values()) and len(got) == len(refs)
    assert sum("unsafe for the cache" in str(w.message) for w in caught) == len(refs)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(Path(os.path.realpath(p)).is_relative_to(os.path.realpath(cache)) for p in written)
    assert not [p for p in cache.rglob("*") if p.is_file()]  # and nothing was cached
    # the layout-shaped one is also listed and read by a normal read
    listing = src.list_blobs(log_type="nsg", start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")
    assert [r.blob for r in listing.refs] == [STORED[-1]]


WINDOW = dict(start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")


def test_a_cache_folder_that_cannot_be_written_warns_once_and_the_read_completes(azurite, estate, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "devstoreaccount1").write_text("a file where the account folder should be")
    src = AzureBlobSource.from_connection_string(azurite.connection_string, cache_dir=cache, retry_backoff=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flows = flowkit.read_flow_logs(src, **WINDOW)
        again = flowkit.read_flow_logs(src, **WINDOW)  # the same source: no second warning
    expected = flowkit.read_flow_logs(estate, **WINDOW)
    assert len(flows) == len(again) == len(expected) == 54
    assert [str(w.message) for w in caught] == [
        f"flowkit: cannot write to the cache folder {str(cache)!r} (Not a directory); blobs are read "
        f"but no longer cached by this source"]
    assert (cache / "devstoreaccount1").read_text() == "a file where the account folder should be"


_FULL_DISK = """
import resource, sys, warnings
import flowkit
src = flowkit.AzureBlobSource.from_connection_string(sys.argv[1], cache_dir=sys.argv[2], retry_backoff=0.1)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # every write past 1000 bytes fails: EFBIG
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    flows = flowkit.read_flow_logs(src, start="2024-05-01T10:00Z", end="2024-05-01T11:00Z")
print(len(flows))
print("\\n".join(str(w.message) for w in caught))
"""


def test_a_full_disk_under_the_cache_folder_does_not_fail_the_read(azurite, estate, tmp_path):
    import subprocess
    import sys

    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-c", _FULL_DISK, azurite.connection_string, str(cache)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        "54", f"flowkit: cannot write to the cache folder {str(cache)!r} (File too large); blobs are read "
              f"but no longer cached by this source"]
    assert not [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 1000]
