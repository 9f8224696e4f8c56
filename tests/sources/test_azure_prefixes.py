"""Which time prefixes an Azure listing asks for: every hour that may hold tuples of the window,
and whole days, months and years as one prefix each (fewer listing calls), never more.

Pure functions: no Azurite needed.
"""

from __future__ import annotations

import pytest

from flowkit.sources.azure_prefixes import SKEW, time_prefixes
from flowkit.sources.layout import to_utc

MONTHS_2024 = [f"y=2024/m={m:02d}/" for m in range(2, 13)]


@pytest.mark.parametrize("start, end, prefixes", [
    pytest.param("2024-01-01", "2025-01-01",
                 ["y=2023/m=12/d=31/h=23/", "y=2024/", "y=2025/m=01/d=01/h=00/"], id="a-whole-year"),
    pytest.param("2024-02-01", "2025-01-01",
                 ["y=2024/m=01/d=31/h=23/", *MONTHS_2024, "y=2025/m=01/d=01/h=00/"], id="eleven-months-not-the-year"),
    pytest.param("2024-02-01", "2024-03-01",
                 ["y=2024/m=01/d=31/h=23/", "y=2024/m=02/", "y=2024/m=03/d=01/h=00/"], id="february-of-a-leap-year"),
    pytest.param("2024-05-10", "2024-05-20",
                 ["y=2024/m=05/d=09/h=23/", *(f"y=2024/m=05/d={d}/" for d in range(10, 20)), "y=2024/m=05/d=20/h=00/"],
                 id="ten-days-not-the-month"),
    pytest.param("2024-05-10", "2024-05-11",
                 ["y=2024/m=05/d=09/h=23/", "y=2024/m=05/d=10/", "y=2024/m=05/d=11/h=00/"], id="a-whole-day"),
    pytest.param("2024-05-10T10:30", "2024-05-10T12:00",
                 ["y=2024/m=05/d=10/h=10/", "y=2024/m=05/d=10/h=11/", "y=2024/m=05/d=10/h=12/"],
                 id="hours-and-the-next-for-late-records"),
])
def test_time_prefixes(start: str, end: str, prefixes: list[str]) -> None:
    assert SKEW.total_seconds() == 600
    assert time_prefixes(to_utc(start), to_utc(end)) == prefixes


def test_uncompressed_prefixes_are_the_same_hours() -> None:
    start, end = to_utc("2024-02-01"), to_utc("2024-03-01")
    hours = time_prefixes(start, end, compress=False)
    assert len(hours) == 29 * 24 + 2 and hours[0] == "y=2024/m=01/d=31/h=23/" and hours[-1] == "y=2024/m=03/d=01/h=00/"
    assert all(any(h.startswith(p) for p in time_prefixes(start, end)) for h in hours)
