"""``flowkit.cli.output``: what it exports, and tables printed with numbers formatted as numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowkit.cli import output
from flowkit.cli.output import printable_frame


def test_star_import_gives_the_two_functions():
    namespace: dict = {}
    exec("from flowkit.cli.output import *", namespace)
    assert sorted(k for k in namespace if not k.startswith("__")) == ["printable", "printable_frame"]
    assert namespace["printable"] is output.printable and namespace["printable_frame"] is output.printable_frame


def test_printable_frame_leaves_numbers_and_times_typed_and_formatted():
    frame = pd.DataFrame({"small": [1e-9, 123456.789], "gap": [1.5, np.nan], "n": [1, 2],
                          "t": pd.to_datetime(["2024-05-01T10:00Z", None]), "s": ["a\x1b", None]})
    out = printable_frame(frame)
    assert list(out.dtypes[:4]) == list(frame.dtypes[:4])  # float, float, int, UTC time: not object
    assert out.to_string(index=False) == frame.assign(s=["a\\x1b", None]).to_string(index=False)
    assert out.to_string(index=False).splitlines()[1].split() == \
        ["1.000000e-09", "1.5", "1", "2024-05-01", "10:00:00+00:00", "a\\x1b"]


def test_printable_frame_of_a_frame_without_columns():
    out = printable_frame(pd.DataFrame(index=[5, 7]))
    assert out.shape == (2, 0) and list(out.index) == [0, 1]
