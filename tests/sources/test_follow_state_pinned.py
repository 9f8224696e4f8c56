"""follow_state pinned: the names it exports and the exact bytes of a checkpoint file (no Azurite)."""

from __future__ import annotations

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
