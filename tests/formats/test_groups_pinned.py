"""FormatGroups and split_array: outcomes pinned by mutation testing (every element of a
flowTuples array is a line or a bad element with its place)."""

from __future__ import annotations

import msgspec
import pytest

import flowkit
from flowkit.formats import native_read
from flowkit.formats.groups import FormatGroups, split_array
from tests.blobs import T0_MS, blob, nsg_record, vnet_record

T1 = "1714557600000,192.0.2.1,198.51.100.2,50000,443,6,O,B,X,,,,"
T2 = "1714557660000,192.0.2.1,198.51.100.2,50000,443,6,O,E,X,3,767,2,1580"


def test_a_compact_array_is_returned_as_it_is_with_its_separators() -> None:
    raw = f'["{T1}","{T2}"]'.encode()
    assert split_array(raw) == (f'{T1}","{T2}'.encode(), 2, None, [])
    assert split_array(b"[]") == (b"", 0, None, [])


def test_an_array_of_numbers_only_takes_the_careful_path() -> None:
    """No quote at all in the last group: the bulk path must not look past the end of its quotes."""
    g = FormatGroups()
    g.add(msgspec.Raw(f'["{T1}"]'.encode()), record=0)
    g.add(msgspec.Raw(b"[5,6]"), record=1)
    built = g.build()
    assert not built.sparse and built.seen == 3 and built.counts.tolist() == [1, 0]
    assert built.bad == [(1, 0, "tuple-not-a-string", "5"), (1, 1, "tuple-not-a-string", "6")]
    assert bytes(built.buffer) == T1.encode() and built.quotes.tolist() == [2, 0]


def test_an_array_that_is_not_json_is_one_bad_element() -> None:
    assert split_array(b'["1,a",') == (b"", 0, [], [(0, "invalid-tuples-array", '["1,a",')])
    assert split_array(b'{"a":1}') == (b"", 0, [], [(0, "tuples-not-an-array", '{"a":1}')])
    assert split_array(b'["\xff') == (b"", 0, [], [(0, "invalid-tuples-array", '["\ufffd')])



def test_no_groups_build_an_empty_buffer() -> None:
    built = FormatGroups().build()
    assert (bytes(built.buffer), built.seen, built.bad) == (b"", 0, [])
    assert (built.counts.tolist(), built.first_tuple.tolist(), built.quotes.tolist()) == ([], [], [])


def test_a_string_holding_a_newline_or_a_quote_is_invalid_characters() -> None:
    raw = b'["1,a\\n","2,b","3,\\"c\\"","4,\\r"]'
    assert split_array(raw) == (b"2,b", 1, [1], [(0, "invalid-characters", "1,a\n"),
                                                 (2, "invalid-characters", '3,"c"'),
                                                 (3, "invalid-characters", "4,\r")])


def test_the_text_of_a_bad_array_is_cut_at_200_bytes() -> None:
    assert split_array(b'["' + b"a" * 300)[3] == [(0, "invalid-tuples-array", '["' + "a" * 198)]
    assert split_array(b'"' + b"a" * 300 + b'"')[3] == [(0, "tuples-not-an-array", '"' + "a" * 199)]


@pytest.mark.parametrize("empty", [b"[]", b"[ ]", b"[\n]", b"[\r\n\t ]"])
def test_an_empty_array_leaves_no_group_however_it_is_spaced(empty: bytes) -> None:
    g = FormatGroups()
    g.add(msgspec.Raw(f'["{T1}"]'.encode()), record=0, rule="kept", acl="acl-kept")
    g.add(msgspec.Raw(empty), record=0, rule="empty", acl="acl-empty", mac="000D3A000009")
    g.add(msgspec.Raw(f'[ "{T2}" ]'.encode()), record=0, rule="spaced", acl="acl-spaced")
    built = g.build()
    assert (g.rule, g.acl, g.mac, g.record) == (["kept", "spaced"], ["acl-kept", "acl-spaced"], [None, None], [0, 0])
    assert built.counts.tolist() == [1, 1] and built.first_tuple.tolist() == [0, 1] and built.bad == []


VNET_ROW = f"{T0_MS + 1500},192.0.2.1,198.51.100.2,40000,443,6,O,B,NX,0,0,0,0"


@pytest.mark.parametrize("scanner", ["off", "loaded"])
@pytest.mark.parametrize("empty", [b"[]", b"[ ]", b"[\n]"])
def test_read_flow_logs_keeps_no_rule_or_acl_of_an_empty_vnet_group(tmp_path, monkeypatch, scanner: str,
                                                                     empty: bytes) -> None:
    """``[ ]`` as ``[]``: the compiled scanner reads ``[]`` and declines the others, the general path
    reads them all; neither keeps the empty group's rule or aclID as a category without a row."""
    monkeypatch.setattr(native_read, "_scanner", None)
    monkeypatch.delenv("FLOWKIT_SCANNER", raising=False)
    if scanner == "off":
        monkeypatch.setenv("FLOWKIT_SCANNER", "off")
    else:
        assert flowkit.load_scanner()
    record = vnet_record([("acl-a", "UserRule_A", [VNET_ROW]), ("acl-b", "UserRule_Empty", ["EMPTY"])])
    path = tmp_path / "vnet.json"
    path.write_bytes(blob([record]).replace(b'["EMPTY"]', empty))
    frame, report = flowkit.read_flow_logs(path, with_report=True)
    assert (len(frame), report.tuples, report.quarantined) == (1, 1, 0)
    assert list(frame.rule.cat.categories) == ["UserRule_A"]
    assert list(frame.acl_id.cat.categories) == ["acl-a"]


def test_read_flow_logs_keeps_no_rule_of_an_empty_nsg_group(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWKIT_SCANNER", "off")
    monkeypatch.setattr(native_read, "_scanner", None)
    record = nsg_record({"R1": ["1714557605,192.0.2.10,198.51.100.4,50000,443,T,I,A,B,,,,"], "R_EMPTY": ["EMPTY"]})
    path = tmp_path / "nsg.json"
    path.write_bytes(blob([record]).replace(b'["EMPTY"]', b"[\n  ]"))
    frame = flowkit.read_flow_logs(path)
    assert len(frame) == 1 and list(frame.rule.cat.categories) == ["R1"]


def test_drop_empty_keeps_every_array_with_an_element_and_every_value_that_is_not_an_array() -> None:
    g = FormatGroups()
    for raw, rule in ((b"[]", "empty"), (b"{}", "object"), (b'""', "string"), (b"[1]", "one"), (b"[ 1]", "spaced"),
                      (b"[ ]", "blank")):
        g.add(msgspec.Raw(raw), record=0, rule=rule)
    g.drop_empty()
    assert g.rule == ["object", "string", "one", "spaced", "blank"]
    g.drop_empty(blank=True)
    assert g.rule == ["object", "string", "one", "spaced"]
    assert g.build().bad == [(0, 0, "tuples-not-an-array", "{}"), (1, 0, "tuples-not-an-array", '""'),
                             (2, 0, "tuple-not-a-string", "1"), (3, 0, "tuple-not-a-string", "1")]
