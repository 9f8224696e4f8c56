"""Read reports back: the HTML page (BeautifulSoup) and the workbook (openpyxl), as plain data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup


def html_findings(page: str) -> list[dict[str, Any]]:
    """Each finding section: verdict, severity, title, facts (text), tables (name -> total rows)."""
    soup = BeautifulSoup(page, "html.parser")
    out = []
    for sec in soup.select("section.fk-finding"):
        facts = {td["data-fact"]: td.get_text() for td in sec.select("td[data-fact]")}
        tables = {}
        for div in sec.select("div.fk-table"):
            h4 = div.find("h4")
            name = h4.contents[0].strip()
            total = int(re.search(r"\((\d+) row", h4.get_text()).group(1))
            tables[name] = total
        out.append({"verdict": sec["data-verdict"], "severity": sec["data-severity"],
                    "title": re.sub(r"^\d+\. ", "", sec.find("h2").get_text()),
                    "summary": (sec.select_one("p.fk-summary") or sec).get_text(),
                    "facts": facts, "tables": tables})
    return out


def html_load_reports(page: str) -> list[dict[str, str]]:
    soup = BeautifulSoup(page, "html.parser")
    return [{tr.th.get_text(): tr.td.get_text() for tr in t.find_all("tr")} for t in soup.select("table.fk-load-report")]


def html_counts(page: str) -> dict[str, int]:
    soup = BeautifulSoup(page, "html.parser")
    return {td["data-severity"]: int(td.get_text()) for td in soup.select("table.fk-counts td")}


def fact(text: str) -> Any:
    """A fact cell's text as data (JSON where it parses)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def xlsx_sheets(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def xlsx_finding(rows: list[list[Any]]) -> dict[str, Any]:
    """A finding sheet: head fields, facts, and evidence tables (name -> list of row dicts)."""
    head: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    section, columns, current = "head", None, None
    for row in rows:
        cells = [c for c in row]
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            section = "gap"
            continue
        first = cells[0]
        if section == "head" and len(cells) >= 2:
            head[first] = cells[1]
        elif first == "fact" and cells[1:2] == ["value"]:
            section = "facts"
        elif section == "facts":
            facts[first] = cells[1] if len(cells) > 1 else None
        elif isinstance(first, str) and first.startswith("evidence: "):
            current = first[len("evidence: "):]
            tables[current] = []
            section, columns = "header", None
        elif section == "header":
            columns, section = cells, "rows"
        elif section == "rows":
            tables[current].append(dict(zip(columns, cells + [None] * (len(columns) - len(cells)))))
    return {"head": head, "facts": facts, "tables": tables}
