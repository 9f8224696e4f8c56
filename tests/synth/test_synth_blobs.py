"""blob_blocks reproduces Azure's block structure; blob_bytes is its concatenation."""

from __future__ import annotations

import json

from flowkit.synth import HEAD_BLOCK, TAIL_BLOCK, blob_blocks, blob_bytes

RECORDS = [{"time": f"2024-05-01T10:0{i}:52.0000000Z", "n": i} for i in range(4)]


def test_head_and_tail_blocks() -> None:
    blocks = blob_blocks(RECORDS)
    assert blocks[0] == HEAD_BLOCK == b'{"records":[' and len(blocks[0]) == 12
    assert blocks[-1] == TAIL_BLOCK == b"]}" and len(blocks[-1]) == 2
    assert len(blocks) == len(RECORDS) + 2


def test_every_block_after_the_first_record_starts_with_a_comma() -> None:
    blocks = blob_blocks(RECORDS)
    assert not blocks[1].startswith(b",")
    assert all(b.startswith(b",{") for b in blocks[2:-1])


def test_concatenation_is_the_blob_and_parses() -> None:
    data = blob_bytes(RECORDS)
    assert data == b"".join(blob_blocks(RECORDS))
    assert json.loads(data) == {"records": RECORDS}
    assert b" " not in data


def test_every_commit_of_a_growing_blob_is_valid_json() -> None:
    blocks = blob_blocks(RECORDS)
    for k in range(len(RECORDS) + 1):
        assert json.loads(b"".join(blocks[:k + 1]) + TAIL_BLOCK)["records"] == RECORDS[:k]


def test_fragment_after_an_offset_recovers_by_wrapping() -> None:
    blocks = blob_blocks(RECORDS)
    fragment = b"".join(blocks[2:-1])  # what a reader that stored the offset after record 0 reads
    assert json.loads(b"[" + fragment[1:] + b"]") == RECORDS[1:]


def test_empty_blob() -> None:
    assert blob_bytes([]) == b'{"records":[]}'


def test_pre_encoded_records_pass_through() -> None:
    assert blob_blocks([b'{"a":1}', {"b": 2}])[1:3] == [b'{"a":1}', b',{"b":2}']
