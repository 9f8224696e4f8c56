"""XLSX and CSV evidence: one sheet per finding, safe sheet names, no formulas."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from flowkit.findings import Finding
from flowkit.report import Report
from flowkit.report.xlsx import sheet_names

from report_pages import xlsx_finding, xlsx_sheets

HOSTILE_CELLS = ["=HYPERLINK(\"http://198.51.100.66/x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0",
                 "\tTAB", "ok"]


def test_sheet_names_sanitised_unique_short():
    names = sheet_names(["Connectivity 10.10.1.4 -> 10.10.3.4 port 1433", "Connectivity 10.10.1.4 -> 10.10.3.4 port 1433",
                         "a[b]c:d*e?f/g\\h", "Summary", ""])
    assert names == ["01 Connectivity 10.10.1.4 -> 10", "02 Connectivity 10.10.1.4 -> 10", "03 a_b_c_d_e_f_g_h",
                     "04 Summary", "05 "]
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)


def test_formula_injection_neutralised(tmp_path):
    frame = pd.DataFrame({"rule": HOSTILE_CELLS, "n": [-1, 2, 3, 4, 5, 6, 7]})
    f = Finding(title="=1+1", verdict="@x", severity="low", summary="-summary", evidence={"=evil": frame},
                facts={"rule": "=2+2", "count": -5})
    path = Report([f]).to_xlsx(tmp_path / "r.xlsx")
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t")), cell.value
    sheet = xlsx_finding(xlsx_sheets(path)[wb.sheetnames[1]])
    assert sheet["head"]["title"] == "'=1+1" and sheet["facts"] == {"rule": "'=2+2", "count": -5}
    table = sheet["tables"]["=evil"] if "=evil" in sheet["tables"] else sheet["tables"]["'=evil"]
    assert [r["rule"] for r in table] == ["'" + c if c != "ok" else c for c in HOSTILE_CELLS]
    assert [r["n"] for r in table] == [-1, 2, 3, 4, 5, 6, 7]  # numbers stay numbers


def test_csv_dir(tmp_path, scenario_reports):
    report, expected = scenario_reports["encryption"]
    folder = report.write(tmp_path / "evidence", format="csv")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["01-vnet-encryption-audit-by-state.csv", "01-vnet-encryption-audit-dropped.csv",
                     "01-vnet-encryption-audit-facts.csv", "01-vnet-encryption-audit-flows.csv",
                     "01-vnet-encryption-audit-never-encrypting.csv", "01-vnet-encryption-audit-subnet-matrix.csv",
                     "01-vnet-encryption-audit-trend.csv", "01-vnet-encryption-audit-vm-pairs.csv", "metadata.csv",
                     "summary.csv"]
    by_state = pd.read_csv(folder / "01-vnet-encryption-audit-by-state.csv", encoding="utf-8-sig")
    assert dict(zip(by_state["state"], by_state["flows"])) == expected["totals"]["flows_by_encryption"]
    summary = pd.read_csv(folder / "summary.csv", encoding="utf-8-sig")
    assert summary[["severity", "verdict"]].values.tolist() == [["high", "dropped"]]
    meta = dict(pd.read_csv(folder / "metadata.csv", encoding="utf-8-sig").values.tolist())
    assert int(meta["load_report_1.tuples"]) == expected["totals"]["tuples"]


def test_cells_with_control_characters_and_huge_text(tmp_path):
    frame = pd.DataFrame({"raw": ["a\x00b\x1fc", "x" * 40_000]})
    path = Report([Finding("t", "ok", evidence={"raw": frame})]).to_xlsx(tmp_path / "r.xlsx")
    table = xlsx_finding(xlsx_sheets(path)["01 t"])["tables"]["raw"]
    assert table[0]["raw"] == "abc" and len(table[1]["raw"]) == 32767 - 20 + len(" …(truncated)")
