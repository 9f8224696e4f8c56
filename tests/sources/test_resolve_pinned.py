"""What a user passes that names no source is a clear flowkit error (errors.py: every error flowkit
raises on bad input is a FlowkitError saying what went wrong), never a bare TypeError from inside."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowkit
from flowkit.errors import ArgumentError, FlowkitError, SourceError
from flowkit.sources.base import BlobRef, CompositeSource, Listing
from flowkit.sources.local import LocalSource
from flowkit.sources.resolve import is_azure_url, resolve_source

TAIL = " is not a file, folder, glob, blob storage address or FlowSource (nor a list of them)"


@pytest.mark.parametrize("source, shown", [
    pytest.param(None, "None", id="none"),
    pytest.param(42, "42", id="a-number"),
    pytest.param(b"data-samples/connectivity", "b'data-samples/connectivity'", id="bytes"),
    pytest.param(["data-samples/connectivity", None], "None", id="none-in-a-list"),
    pytest.param([b"data-samples/connectivity"], "b'data-samples/connectivity'", id="bytes-in-a-list"),
    pytest.param([["data-samples/connectivity"]], "['data-samples/connectivity']", id="nested-list"),
    pytest.param(("x.json", 3.5), "3.5", id="float-in-a-tuple"),
])
def test_what_names_no_source_is_an_argument_error_saying_what_was_given(source, shown):
    with pytest.raises(ArgumentError) as info:
        resolve_source(source)
    assert str(info.value) == f"source: {shown}{TAIL}"
    assert isinstance(info.value, FlowkitError)


def test_read_flow_logs_of_none_says_so():
    with pytest.raises(ArgumentError, match=r"^source: None is not a file"):
        flowkit.read_flow_logs(None)


def test_an_address_in_a_refused_value_is_shown_without_its_secret():
    with pytest.raises(ArgumentError) as info:
        resolve_source([b"https://acct.blob.core.windows.net/c?sv=1&sig=TOPSECRET"])
    assert "TOPSECRET" not in str(info.value)


class _Fixed:
    """A duck-typed source (FlowSource is a protocol): taken as it is, in a list too."""

    def list_blobs(self, **kwargs) -> Listing:
        return Listing((BlobRef("a"),))

    def iter_bytes(self, refs, *, progress=None):
        return iter(())

    def describe(self) -> str:
        return "fixed"


def test_a_source_object_is_returned_as_it_is_alone_and_kept_in_a_list():
    fixed = _Fixed()
    assert resolve_source(fixed) is fixed
    assert resolve_source([fixed]) is fixed
    both = resolve_source([fixed, "x.json"])
    assert isinstance(both, CompositeSource)
    assert both.parts[0] is fixed and isinstance(both.parts[1], LocalSource)
    assert both.describe() == "fixed; local: x.json"


@pytest.mark.parametrize("given, paths", [
    pytest.param("x.json", ("x.json",), id="str"),
    pytest.param(Path("logs") / "x.json", ("logs/x.json",), id="pathlike"),
    pytest.param(["a.json", Path("b.json")], ("a.json", "b.json"), id="list"),
    pytest.param(iter(["a.json", "b.json"]), ("a.json", "b.json"), id="iterator"),
    pytest.param([], (), id="empty-list"),
    pytest.param("C://logs/x.json", ("C://logs/x.json",), id="drive-letter-is-not-a-scheme"),
])
def test_paths_become_one_local_source(given, paths):
    src = resolve_source(given)
    assert type(src) is LocalSource
    assert src.paths == paths


def test_other_schemes_in_one_text_are_refused_before_anything_is_read():
    with pytest.raises(SourceError, match=r"^not a local path or a blob storage address: 'sftp://host/logs'"):
        resolve_source("sftp://host/logs")
    with pytest.raises(SourceError, match=r"^not a local path or a blob storage address: 'ftp://h/x'"):
        resolve_source(["x.json", "ftp://h/x"])


def test_only_the_three_schemes_are_azure():
    assert [is_azure_url(t) for t in ("azure://a/c", "Azure://a/c", "http://h/c", "https://h/c",
                                      "sftp://h/c", "azure:/a/c", "httpx://h/c", "/azure://a")] == \
        [True, True, True, True, False, False, False, False]


def test_the_public_names():
    import flowkit.sources.resolve as resolve

    assert resolve.__all__ == ["resolve_source", "is_azure_url"]
