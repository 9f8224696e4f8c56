"""The local mirror of sealed blobs, pinned without Azurite: names refused and why, when a blob is
sealed, what ``get`` returns for a stale or damaged file, and what ``entries`` lists."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from flowkit.sources.blob_cache import SETTLE, BlobCache, CacheEntry, UnsafeBlobName, is_sealed, safe_parts
from flowkit.sources.layout import NSG_CONTAINER

NAME = ("resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/"
        "NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A000101/PT1H.json")


@pytest.mark.parametrize("name, why", [
    pytest.param("", "empty name", id="empty"),
    pytest.param("a/b\x1fc", "control character", id="control"),
    pytest.param("a/b\x7fc", "control character", id="del"),
    pytest.param("a/%0Ab", "control character", id="encoded-newline"),
    pytest.param("a\\b", "backslash", id="backslash"),
    pytest.param("a%5Cb", "backslash", id="encoded-backslash"),
    pytest.param("a/b:c", "':' (drive letter or stream)", id="colon"),
    pytest.param("/a", "absolute path", id="slash"),
    pytest.param("~a/b", "absolute path", id="tilde"),
    pytest.param("a/..", "'..' segment", id="dotdot-last"),
    pytest.param("a/%252e%252e/b", "'..' segment", id="double-encoded"),
    pytest.param("a/%2525252e%2525252e/b", "'..' segment", id="four-times-encoded"),
    pytest.param("a/", "empty or '.' segment", id="trailing-slash"),
    pytest.param("./a", "empty or '.' segment", id="dot"),
    pytest.param("a/" + "é" * 100 + "x", "segment too long", id="201-bytes"),
    pytest.param("a/PT1H.json.flowkit-meta", "reserved file name", id="meta-suffix"),
    pytest.param("a/.flowkit-tmp-1234", "reserved file name", id="temporary-file"),
])
def test_each_refusal_says_why(name, why):
    with pytest.raises(UnsafeBlobName) as info:
        safe_parts(name)
    assert str(info.value) == f"blob name {name!r} is refused by the cache: {why}"


def test_a_long_refused_name_is_shown_cut_at_200_characters():
    name = "../" + "a" * 300
    with pytest.raises(UnsafeBlobName) as info:
        safe_parts(name)
    assert str(info.value) == f"blob name {name[:200] + '…'!r} is refused by the cache: '..' segment"
    with pytest.raises(UnsafeBlobName) as info:
        safe_parts(name[:201])
    assert str(info.value) == f"blob name {name[:200] + '…'!r} is refused by the cache: '..' segment"
    with pytest.raises(UnsafeBlobName) as info:
        safe_parts(name[:200])
    assert str(info.value) == f"blob name {name[:200]!r} is refused by the cache: '..' segment"


@pytest.mark.parametrize("name, parts", [
    pytest.param(NAME, NAME.split("/"), id="layout"),
    pytest.param("a/" + "é" * 100, ["a", "é" * 100], id="200-bytes"),
    pytest.param("a/x.flowkit-tmp", ["a", "x.flowkit-tmp"], id="tmp-not-first"),
    pytest.param("a/.flowkit-meta.json", ["a", ".flowkit-meta.json"], id="meta-not-last"),
    pytest.param("a/%41b", ["a", "%41b"], id="encoded-kept-as-is"),
])
def test_safe_names_are_split_as_given(name, parts):
    assert safe_parts(name) == parts


HOUR = pd.Timestamp("2024-05-01T10:00Z")


@pytest.mark.parametrize("hour, last_modified, now, sealed", [
    pytest.param(HOUR, None, HOUR + pd.Timedelta(minutes=75), True, id="hour-at-settle"),
    pytest.param(HOUR, None, HOUR + pd.Timedelta(minutes=75) - pd.Timedelta("1ns"), False, id="hour-before-settle"),
    pytest.param(HOUR, HOUR, HOUR + pd.Timedelta(minutes=30), False, id="hour-wins-over-last-modified"),
    pytest.param(None, HOUR, HOUR + pd.Timedelta(minutes=15), True, id="unchanged-for-settle"),
    pytest.param(None, HOUR, HOUR + pd.Timedelta(minutes=15) - pd.Timedelta("1ns"), False, id="changed-lately"),
    pytest.param(None, None, HOUR + pd.Timedelta(days=900), False, id="nothing-known"),
])
def test_is_sealed(hour, last_modified, now, sealed):
    assert is_sealed(hour, last_modified, now) is sealed


def test_is_sealed_by_the_clock_and_a_settle_of_ones_own():
    assert SETTLE == pd.Timedelta(minutes=15)
    assert is_sealed(pd.Timestamp("2020-01-01T00:00Z"), None) is True
    assert is_sealed(pd.Timestamp.now(tz="UTC").floor("h"), None) is False
    assert is_sealed(HOUR, None, HOUR + pd.Timedelta(minutes=61), settle=pd.Timedelta(minutes=1)) is True
    assert is_sealed(None, HOUR, HOUR + pd.Timedelta(minutes=2), settle=pd.Timedelta(minutes=1)) is True
    assert BlobCache("x").settle == SETTLE and BlobCache("x", settle=pd.Timedelta(0)).settle == pd.Timedelta(0)


# -- the folder ---------------------------------------------------------------------------
@pytest.mark.parametrize("account, container, label", [
    pytest.param("", NSG_CONTAINER, "account", id="no-account"),
    pytest.param(None, NSG_CONTAINER, "account", id="none-account"),
    pytest.param("a/b", NSG_CONTAINER, "account", id="slash-account"),
    pytest.param("acct", "-c", "container", id="dash-first"),
    pytest.param("acct", "c" * 64, "container", id="64-characters"),
    pytest.param("acct", "..", "container", id="dotdot"),
])
def test_account_and_container_names_are_checked(tmp_path, account, container, label):
    with pytest.raises(UnsafeBlobName) as info:
        BlobCache(tmp_path).path_for(account, container, "a/PT1H.json")
    value = container if label == "container" else account
    assert str(info.value) == f"blob name 'a/PT1H.json' is refused by the cache: unexpected {label} name {value!r}"
    assert list(BlobCache(tmp_path).entries(account, container)) == []


def test_path_for_is_under_the_resolved_root(tmp_path):
    os.symlink(tmp_path / "real", tmp_path / "link")
    (tmp_path / "real").mkdir()
    cache = BlobCache(tmp_path / "link")
    assert repr(cache) == f"BlobCache({str(tmp_path / 'link')!r})"
    assert cache.path_for("acct", "c" * 63, "a/b.json") == tmp_path / "real" / "acct" / ("c" * 63) / "a" / "b.json"


def test_a_link_out_of_the_cache_is_refused_with_its_reason(tmp_path):
    (tmp_path / "cache" / "acct" / "c").mkdir(parents=True)
    os.symlink(tmp_path, tmp_path / "cache" / "acct" / "c" / "up")
    with pytest.raises(UnsafeBlobName) as info:
        BlobCache(tmp_path / "cache").path_for("acct", "c", "up/x.json")
    assert str(info.value) == "blob name 'up/x.json' is refused by the cache: resolves outside the cache folder"


def test_public_names_and_a_cache_entry_is_a_value():
    import dataclasses

    names: dict = {}
    exec("from flowkit.sources.blob_cache import *", names)
    assert {k for k in names if not k.startswith("__")} == {
        "BlobCache", "CacheEntry", "UnsafeBlobName", "safe_parts", "is_sealed", "SETTLE"}
    entry = CacheEntry(container="c", blob="b", etag=None, size=0, last_modified=None, path=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.size = 1


def test_put_get_and_the_meta_file(tmp_path):
    cache = BlobCache(tmp_path)
    assert cache.put("acct", NSG_CONTAINER, NAME, b'{"records":[]}', etag="0x1",
                     last_modified="2024-05-01T11:02:03Z") is True
    path = cache.path_for("acct", NSG_CONTAINER, NAME)
    meta = json.loads(path.with_name("PT1H.json.flowkit-meta").read_text())
    assert meta == {"container": NSG_CONTAINER, "blob": NAME, "etag": "0x1", "size": 14,
                    "last_modified": "2024-05-01T11:02:03+00:00"}
    assert cache.get("acct", NSG_CONTAINER, NAME, "0x1") == b'{"records":[]}'
    assert cache.get("acct", NSG_CONTAINER, NAME, None) == b'{"records":[]}'
    assert cache.get("acct", NSG_CONTAINER, NAME, "0x2") is None
    assert cache.get("acct", NSG_CONTAINER, "other/PT1H.json", None) is None
    assert cache.get("acct", NSG_CONTAINER, "../x", None) is None
    path.write_bytes(b'{"records":[')  # cut short: not the size the meta file says
    assert cache.get("acct", NSG_CONTAINER, NAME, "0x1") is None
    path.with_name("PT1H.json.flowkit-meta").write_text("{")
    assert cache.get("acct", NSG_CONTAINER, NAME, "0x1") is None
    assert cache.put("acct", NSG_CONTAINER, NAME, b"{}", etag=None) is True
    assert json.loads(path.with_name("PT1H.json.flowkit-meta").read_text())["last_modified"] is None
    assert cache.get("acct", NSG_CONTAINER, NAME, None) == b"{}"


def test_entries_lists_what_was_stored_and_skips_what_does_not_add_up(tmp_path):
    cache = BlobCache(tmp_path)
    assert list(cache.entries("acct", NSG_CONTAINER)) == []  # no folder yet
    cache.put("acct", NSG_CONTAINER, "b/PT1H.json", b"12345", etag="0x2", last_modified=HOUR)
    cache.put("acct", NSG_CONTAINER, "a/PT1H.json", b"{}", etag="0x1")
    cache.put("acct", NSG_CONTAINER, "c/PT1H.json", b"{}", etag="0x3")
    cache.put("acct", NSG_CONTAINER, "d/PT1H.json", b"{}", etag="0x4")
    cache.put("acct", NSG_CONTAINER, "e/PT1H.json", b"{}", etag="0x5")
    cache.put("acct", "other", "f/PT1H.json", b"{}", etag="0x6")
    base = tmp_path / "acct" / NSG_CONTAINER
    (base / "c" / "PT1H.json").unlink()  # its data is gone
    (base / "d" / "PT1H.json.flowkit-meta").write_text(json.dumps({"blob": "a/PT1H.json"}))  # names another blob
    (base / "e" / "PT1H.json.flowkit-meta").write_text("not json")
    (base / "x.flowkit-meta").write_text(json.dumps({"size": 1}))  # no blob name
    got = list(cache.entries("acct", NSG_CONTAINER))
    assert got == [
        CacheEntry(container=NSG_CONTAINER, blob="a/PT1H.json", etag="0x1", size=2, last_modified=None,
                   path=base / "a" / "PT1H.json"),
        CacheEntry(container=NSG_CONTAINER, blob="b/PT1H.json", etag="0x2", size=5, last_modified=HOUR,
                   path=base / "b" / "PT1H.json"),
    ]
    (base / "a" / "PT1H.json.flowkit-meta").write_text(json.dumps({"blob": "a/PT1H.json"}))
    assert [(e.blob, e.etag, e.size) for e in cache.entries("acct", NSG_CONTAINER)][0] == ("a/PT1H.json", None, 0)
    assert list(cache.entries("acct", "missing")) == []


def test_a_put_stopped_between_its_two_writes_never_serves_new_content_under_the_old_etag(tmp_path, monkeypatch):
    """The content is written before its meta; stopped in between (a full disk, a crash), the old
    meta must not describe the new content: the entry is then neither served nor listed."""
    import flowkit.sources.blob_cache as blob_cache

    cache = BlobCache(tmp_path)
    cache.put("acct", NSG_CONTAINER, NAME, b"old!", etag="0x1")
    real = blob_cache.atomic_write

    def stop_at_meta(path, data, **kw):
        if str(path).endswith(blob_cache.META_SUFFIX):
            raise OSError(28, "No space left on device")
        real(path, data, **kw)

    monkeypatch.setattr(blob_cache, "atomic_write", stop_at_meta)
    with pytest.raises(OSError):
        cache.put("acct", NSG_CONTAINER, NAME, b"new!", etag="0x2")  # the same size as the old
    assert cache.get("acct", NSG_CONTAINER, NAME, None) is None
    assert cache.get("acct", NSG_CONTAINER, NAME, "0x1") is None
    assert list(cache.entries("acct", NSG_CONTAINER)) == []


def test_cached_blobs_are_readable_by_their_user_only(tmp_path):
    # Logs downloaded with the user's credentials: on a shared machine, not for other users
    # whatever the umask (0644 files once atomic_write gave files open()'s mode).
    import stat
    old = os.umask(0o022)
    try:
        cache = BlobCache(tmp_path)
        assert cache.put("acct", NSG_CONTAINER, "a/PT1H.json", b"{}", etag='"0x1"')
        assert cache.put("acct", NSG_CONTAINER, "a/PT1H.json", b'{"records":[]}', etag='"0x2"')  # written over
    finally:
        os.umask(old)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 2
    assert [stat.S_IMODE(p.stat().st_mode) for p in files] == [0o600, 0o600]
