"""investigate(): which investigations run, named as a list or as one string."""

from __future__ import annotations

import pytest

from flowkit.report.investigations import investigate
from flowkit.schema import empty_frame


@pytest.mark.parametrize("names", [["talkers"], "talkers", " Talkers ,", ("talkers",)])
def test_one_investigation_named_as_a_list_or_a_string(names):
    assert [f.title for f in investigate(empty_frame(), names, progress=False)] == \
        [f.title for f in investigate(empty_frame(), ["talkers"], progress=False)]
    assert len(investigate(empty_frame(), names, progress=False)) == 1


def test_several_investigations_in_one_string_run_in_their_order():
    both = investigate(empty_frame(), "talkers,connectivity", progress=False)
    assert [f.title for f in both] == [f.title for f in investigate(empty_frame(), ["connectivity", "talkers"],
                                                                      progress=False)]
    assert len(both) == 2


def test_an_unknown_name_in_a_string_is_named_whole():
    with pytest.raises(ValueError, match=r"unknown investigation\(s\) \['talker'\]"):
        investigate(empty_frame(), "talker", progress=False)
