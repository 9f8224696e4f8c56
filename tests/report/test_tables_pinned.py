"""Cells and tables as text: every column kept in CSV, labels and file names never shared."""

from __future__ import annotations

import pandas as pd

from flowkit.report.tables import cell_text, csv_bytes, unique_labels, unique_slugs


def test_csv_keeps_every_column_when_labels_repeat():
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a.1", "a"])
    assert csv_bytes(frame).decode("utf-8-sig") == "a,a.1,a.2\r\n1,2,3\r\n"


def test_csv_keeps_both_columns_when_labels_neutralise_alike():
    frame = pd.DataFrame({"=a": [1, 2], "'=a": ["x", None]}, index=[5, 7])
    assert csv_bytes(frame).decode("utf-8-sig") == "'=a,'=a\r\n1,x\r\n2,\r\n"


def test_unique_labels_number_repeats_without_taking_a_label_in_use():
    assert unique_labels(["a", "a", "a.1", "a", "b", 1]) == ["a", "a.2", "a.1", "a.3", "b", "1"]


def test_unique_slugs_number_names_that_would_share_a_file():
    assert unique_slugs(["by bytes", "by-bytes", "By Bytes!", "facts"], reserved=["facts"]) == [
        "by-bytes", "by-bytes.1", "by-bytes.2", "facts.1"]
    assert unique_slugs(["x" * 40 + "a", "x" * 40 + "b"]) == ["x" * 30, "x" * 30 + ".1"]


def test_csv_negative_numbers_stay_numbers_while_text_is_neutralised():
    frame = pd.DataFrame({"n": [-5, 2], "x": [-1.5, None], "s": ["-5", "ok"], "b": [True, False]})
    assert csv_bytes(frame).decode("utf-8-sig") == "n,x,s,b\r\n-5,-1.5,'-5,True\r\n2,,ok,False\r\n"


def test_csv_times_in_utc_with_z_and_durations_in_seconds():
    times = pd.to_datetime(["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5Z", None], utc=True, format="ISO8601")
    frame = pd.DataFrame({"t": times.tz_convert("Europe/Berlin"), "d": pd.to_timedelta([90, 1.5, None], unit="s")})
    assert csv_bytes(frame).decode("utf-8-sig") == (
        "t,d\r\n2024-05-01T10:00:00Z,90.0\r\n2024-05-01T10:00:00.500000Z,1.5\r\n,\r\n")


def test_csv_text_column_with_missing_values_and_tuples():
    # two NaN objects that are not the same object, and a tuple (pd.isna of a tuple is an array)
    cells = pd.Series([float("nan"), float("nan"), "=x", (1, 2), None], dtype=object)
    assert csv_bytes(pd.DataFrame({"o": cells})).decode("utf-8-sig") == 'o\r\n""\r\n""\r\n\'=x\r\n"[1, 2]"\r\n""\r\n'


def test_slug_keeps_40_characters_by_default():
    from flowkit.report.tables import slug

    assert slug("A" * 50) == "a" * 40 and slug("a b" * 20, 5) == "a-ba" and slug("%%") == "table"


def test_cell_text_keeps_non_ascii_in_json_cells():
    from flowkit.report.tables import cell_text

    assert cell_text({"vm": "café-01"}) == '{"vm": "café-01"}' and cell_text(["ü"]) == '["ü"]'


def test_csv_record_time_keeps_its_100_ns_ticks_as_the_other_report_cells_do():
    # a VNet record_time has 7 fractional digits; %f alone stopped at 6 (and dropped a lone 100 ns tick)
    times = pd.to_datetime(["2024-05-01T10:00:50.1234567Z", "2024-05-01T10:00:50.0000001Z",
                            "2024-05-01T10:00:50.5Z", "2024-05-01T10:00:50Z", None], utc=True, format="ISO8601")
    frame = pd.DataFrame({"record_time": times, "n": range(5)})
    assert csv_bytes(frame).decode("utf-8-sig") == (
        "record_time,n\r\n2024-05-01T10:00:50.123456700Z,0\r\n2024-05-01T10:00:50.000000100Z,1\r\n"
        "2024-05-01T10:00:50.500000Z,2\r\n2024-05-01T10:00:50Z,3\r\n,4\r\n")
    assert [cell_text(t) for t in times[:4]] == [line.split(",")[0] for line in
                                                 csv_bytes(frame).decode("utf-8-sig").splitlines()[1:5]]
