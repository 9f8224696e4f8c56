"""follow_state pinned: the names it exports and the exact bytes of a checkpoint file (no Azurite)."""

from __future__ import annotations

import json

import pytest

from flowkit.errors import SourceError
from flowkit.sources.follow import Follower
from flowkit.sources.follow_state import Checkpoint


def test_public_names():
    names: dict = {}
    exec("from flowkit.sources.follow_state import *", names)
    assert {k for k in names if not k.startswith("__")} == {"FollowBatch", "Checkpoint"}


def test_checkpoint_file_is_sorted_json_indented_by_one_space(tmp_path):
    # the file a user may open or diff between runs: one key per line, sorted, one-space indent
    path = tmp_path / "cp.json"
    Checkpoint(blobs={"c/x": {"etag": "0x1", "offset": 12}}, log_type="vnet", source="memory").save(path)
    assert path.read_text("utf-8") == (
        '{\n'
        ' "blobs": {\n'
        '  "c/x": {\n'
        '   "etag": "0x1",\n'
        '   "offset": 12\n'
        '  }\n'
        ' },\n'
        ' "done_before": null,\n'
        ' "log_type": "vnet",\n'
        ' "mac": null,\n'
        ' "source": "memory",\n'
        ' "start": null,\n'
        ' "version": 1\n'
        '}'
    )


_GOOD = {"version": 1, "source": "memory", "log_type": "vnet", "mac": None, "start": "2026-01-01T00:00:00+00:00",
         "done_before": None, "blobs": {"c/x": {"mode": "blocks", "etag": "0x1", "blocks": 2, "offset": 12,
                                                 "ids": "ab", "check": None, "hour": None}}}


def _damaged(**changes) -> dict:
    data = json.loads(json.dumps(_GOOD))
    for key, value in changes.items():
        if key.startswith("entry_"):
            data["blobs"]["c/x"][key[len("entry_"):]] = value
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("data, wrong", [
    pytest.param(_damaged(blobs=None), "'blobs' is null, not an object", id="blobs-null"),
    pytest.param(_damaged(blobs=[]), "'blobs' is a list, not an object", id="blobs-list"),
    pytest.param(_damaged(blobs=3), "'blobs' is a number, not an object", id="blobs-number"),
    pytest.param(_damaged(blobs={"c/x": "0x1"}), "the entry of blob 'c/x' is a string, not an object",
                 id="entry-string"),
    pytest.param(_damaged(log_type=5), "'log_type' is a number, not a string", id="log-type-number"),
    pytest.param(_damaged(mac=["000D3A0000E1"]), "'mac' is a list, not a string", id="mac-list"),
    pytest.param(_damaged(start={}), "'start' is an object, not a string", id="start-object"),
    pytest.param(_damaged(entry_offset="12"), "'offset' of blob 'c/x' is a string, not a whole number",
                 id="offset-string"),
    pytest.param(_damaged(entry_blocks=True), "'blocks' of blob 'c/x' is a boolean, not a whole number",
                 id="blocks-boolean"),
    pytest.param(_damaged(entry_etag=1), "'etag' of blob 'c/x' is a number, not a string", id="etag-number"),
    pytest.param(_damaged(entry_offset=12.5), "'offset' of blob 'c/x' is a number, not a whole number",
                 id="offset-fraction"),
    pytest.param(_damaged(entry_tail="yes"), "'tail' of blob 'c/x' is a string, not a boolean", id="tail-string"),
])
def test_a_damaged_checkpoint_is_refused_naming_the_file_and_what_is_wrong(tmp_path, data, wrong):
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value) == (f"checkpoint {str(path)!r} is damaged: {wrong}. Restore it from a copy, or give "
                               f"a new file name (following then starts again from the start)")


def test_a_checkpoint_with_null_blobs_stops_the_follower_with_a_source_error(tmp_path):
    class Source:  # nothing is listed: only the checkpoint matters
        max_concurrency = 1

        def describe(self) -> str:
            return "memory"

    path = tmp_path / "cp.json"
    path.write_text(json.dumps(_damaged(blobs=None)))
    with pytest.raises(SourceError, match=r"is damaged: 'blobs' is null, not an object\."):
        Follower(Source(), log_type="vnet", checkpoint=path)


def test_a_checkpoint_of_the_right_types_and_nulls_loads_as_it_was_written(tmp_path):
    path = tmp_path / "cp.json"
    data = _damaged(entry_tail=None, entry_check="cd", entry_hour="2026-01-01T00:00:00+00:00")
    path.write_text(json.dumps(data))
    assert Checkpoint.load(path) == Checkpoint(blobs=data["blobs"], log_type="vnet", start=data["start"],
                                               source="memory")


def test_a_version_of_true_is_an_unknown_version(tmp_path):
    path = tmp_path / "cp.json"
    path.write_text(json.dumps({"version": True}))
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value) == f"checkpoint {str(path)!r} has an unknown version True"


def test_a_checkpoint_with_every_field_set_loads_as_it_was_written(tmp_path):
    path = tmp_path / "cp.json"
    data = _damaged(mac="000D3A0000E1", done_before="2026-01-01T01:00:00+00:00")
    path.write_text(json.dumps(data))
    assert Checkpoint.load(path) == Checkpoint(blobs=data["blobs"], log_type="vnet", mac="000D3A0000E1",
                                               start=data["start"], done_before="2026-01-01T01:00:00+00:00",
                                               source="memory")


def test_a_json_list_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "cp.json"
    path.write_text("[1, 2]")
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value) == (f"checkpoint {str(path)!r} is not a flowkit checkpoint (JSON list, not an object): "
                               f"give a new file name, or the checkpoint follow wrote")


def test_a_checkpoint_that_is_not_json_cannot_be_read(tmp_path):
    path = tmp_path / "cp.json"
    path.write_text("not json")
    with pytest.raises(SourceError) as info:
        Checkpoint.load(path)
    assert str(info.value) == (f"checkpoint {str(path)!r} cannot be read: "
                               f"Expecting value: line 1 column 1 (char 0)")
