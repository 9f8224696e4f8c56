"""frame_records: outcomes pinned by mutation testing (every part of the input is a record or
damage that says where it was)."""

from __future__ import annotations

import msgspec
import pytest

from flowkit.formats.framing import frame_records
from flowkit.formats.records import Record

TUPLE = "1714557600,192.0.2.4,198.51.100.9,1,2,T,I,A"


def test_text_that_is_not_json_keeps_an_excerpt_even_when_it_is_not_utf8() -> None:
    framed = frame_records(b"\xc3( not json \"" + TUPLE.encode() + b'"')
    assert framed.kind == "not-json" and framed.records == []
    assert [(d.reason, d.record, d.offset, d.tuples) for d in framed.damage] == [("not-json", None, 0, [TUPLE])]
    assert framed.damage[0].excerpt == "\\xc3( not json \"" + TUPLE + '"'  # the byte that is not UTF-8, shown


def test_the_excerpt_of_text_that_is_not_json_is_its_first_80_characters() -> None:
    text = b"x" * 79 + b"yz" + b"0" * 40
    assert frame_records(text).damage[0].excerpt == "x" * 79 + "y"


def test_a_truncated_record_keeps_an_excerpt_even_when_it_is_not_utf8() -> None:
    framed = frame_records(b'{"records":[{"time":"a"},{"time":"\xff\xfe')
    assert [(i, r.time) for i, r in framed.records] == [(0, "a")]
    assert [(d.reason, d.record, d.excerpt) for d in framed.damage] == [
        ("truncated-record", 1, '{"time":"\ufffd\ufffd')]
    long = b'{"records":[{"time":"' + b"a" * 100
    assert frame_records(long).damage[0].excerpt == '{"time":"' + "a" * 71


def test_kind_and_wrapper_quotes_of_a_whole_blob_and_of_a_single_record() -> None:
    """The records key of a whole blob holds two quote characters; a single record has no wrapper."""
    framed = frame_records(b'\xef\xbb\xbf {"records":[{"time":"a"}]}')
    assert (framed.kind, framed.quotes, [r.time for _, r in framed.records]) == ("blob", 2, ["a"])
    framed = frame_records(b'{"time":"a","category":"FlowLogFlowEvent"}')
    assert (framed.kind, framed.quotes, [(i, r.time) for i, r in framed.records]) == ("record", 0, [(0, "a")])
    framed = frame_records(b'{"records":[{"time":"a"},{"time":3x}]}')  # damaged: the careful path
    assert (framed.kind, framed.quotes, [(i, r.time) for i, r in framed.records]) == ("blob", 2, [(0, "a")])
    with pytest.raises(msgspec.DecodeError) as error:
        msgspec.json.decode(b'{"time":3x}', type=Record, strict=False)
    assert [d.excerpt for d in framed.damage] == [f'{error.value}: {{"time":3x}}']


def test_kind_of_a_bare_list_and_of_a_damaged_fragment() -> None:
    framed = frame_records(b'[{"time":"a"},{"time":"b"}]')
    assert (framed.kind, framed.quotes, [r.time for _, r in framed.records]) == ("list", 0, ["a", "b"])
    framed = frame_records(b',{"time":"a"},{"time":3x},{"time":"c"}]}')
    assert (framed.kind, framed.quotes) == ("fragment", 0)
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (2, "c")]
    assert [(d.reason, d.record, d.offset) for d in framed.damage] == [("invalid-record", 1, 14)]


def test_an_invalid_record_keeps_an_excerpt_of_80_characters_even_when_it_is_not_utf8() -> None:
    bad = b'{"time":"\xff","x":"' + b"b" * 100 + b'"}'
    framed = frame_records(b'{"records":[{"time":"a"},' + bad + b',{"time":"c"}]}')
    assert [(i, r.time) for i, r in framed.records] == [(0, "a"), (2, "c")]
    [damage] = framed.damage
    assert (damage.reason, damage.record, damage.offset) == ("invalid-record", 1, 25)
    assert damage.excerpt.endswith(': {"time":"\ufffd","x":"' + "b" * 63)


def test_a_compressed_copy_of_a_blob_is_named_as_such_in_its_not_json_error(tmp_path):
    """A blob saved compressed (gzip, zip, xz, bzip2, zstd) is not JSON: its error says how it is
    compressed instead of echoing binary bytes; other binary shows as escaped text."""
    import bz2
    import gzip
    import io
    import lzma
    import zipfile

    import flowkit
    from flowkit.errors import FormatError
    from flowkit.formats.framing import frame_records, not_json_excerpt
    from flowkit.synth import blob_bytes

    data = blob_bytes([])
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("PT1H.json", data)
    cases = {"gzip": gzip.compress(data), "zip archive": zipped.getvalue(), "xz": lzma.compress(data),
             "bzip2": bz2.compress(data), "zstd": b"\x28\xb5\x2f\xfd" + b"\x00" * 8,
             "UTF-16": "\ufeff".encode("utf-16-le") + data.decode().encode("utf-16-le")}
    for what, packed in cases.items():
        framed = frame_records(packed)
        assert framed.kind == "not-json"
        assert what in framed.damage[0].excerpt, what
    assert not_json_excerpt(b"\x00\x07ab\xff\n") == "\\x00\\x07ab\\xff\\n"
    path = tmp_path / "PT1H.json"
    path.write_bytes(cases["gzip"])
    with pytest.raises(FormatError, match=r"is not JSON \('byte 0: gzip-compressed data: decompress it first"):
        flowkit.read_flow_logs(path)


@pytest.mark.parametrize("data, holds", [(b"42", "a number (42)"), (b" -1.5e3\r\n", "a number (-1.5e3)"),
                                         (b"null", "null (null)"), (b"false", "true or false (false)")])
def test_a_document_of_one_json_scalar_is_an_invalid_record_that_says_what_it_holds(data, holds):
    framed = frame_records(data)
    assert (framed.records, framed.kind) == ([], "record")
    assert [(d.reason, d.record, d.offset, d.excerpt) for d in framed.damage] == [
        ("invalid-record", 0, 0, f"JSON holding only {holds}, where flow-log records should be")]


def test_text_that_is_not_json_stays_not_json():
    assert [(d.reason, d.excerpt) for d in frame_records(b"<Error>denied</Error>").damage] == [
        ("not-json", "<Error>denied</Error>")]
