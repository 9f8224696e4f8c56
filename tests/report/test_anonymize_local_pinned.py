"""An anonymised report does not name the local folders its logs were read from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import flowkit
from flowkit.report import Anonymizer, Report, investigate
from flowkit.report.anonymize_local import local_root, source_roots, usable_root

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"


@pytest.mark.parametrize("blob, root", [
    ("/home/alice/case-4711/insights-logs-flowlogflowevent/flowLogResourceID=/X/PT1H.json", "/home/alice/case-4711"),
    ("case/resourceId=/SUBSCRIPTIONS/S/PT1H.json", "case"),
    ("case/resourceId%3D/SUBSCRIPTIONS/S/PT1H.json", "case"),
    ("C:\\cases\\4711\\insights-logs-networksecuritygroupflowevent\\x\\PT1H.json", "C:\\cases\\4711"),
    ("/tmp/saved/PT1H.json", "/tmp/saved"),
    ("insights-logs-flowlogflowevent/flowLogResourceID=/X/PT1H.json", None),  # an Azure blob: no local part
    ("PT1H.json", None),
    ("./insights-logs-flowlogflowevent/x/PT1H.json", None),
    ("/insights-logs-flowlogflowevent/x/PT1H.json", None),
])
def test_local_root_is_the_folder_in_front_of_the_azure_layout(blob, root):
    assert local_root(blob) == root


def test_the_module_exports_its_public_names():
    import flowkit.report.anonymize_local as module

    assert module.__all__ == ["local_root", "source_roots", "usable_root"]


@pytest.mark.parametrize("blob, root", [
    ("C:\\saved\\PT1H.json", "C:\\saved"),          # a Windows path without the layout: its folder
    ("caseX/PT1H.json", "caseX"),
])
def test_local_root_of_a_path_without_the_layout(blob, root):
    assert local_root(blob) == root


@pytest.mark.parametrize("source, roots", [
    ("local: C:\\logs\\*.json", ["C:\\logs"]),
    ("local: C:\\logs\\PT1H.json", ["C:\\logs"]),
    ("local: a/logs.txt, b/log.json.gz, c/PT1H.JSON", ["a", "b", "c"]),
    ("local: case*/PT1H.json", []),  # a glob in the working folder: no folder of the user's to hide
    ("local: caseX/", ["caseX"]),
])
def test_source_roots_of_windows_paths_files_and_globs_in_the_working_folder(source, roots):
    assert source_roots(source) == roots


def test_source_roots_of_folders_files_and_globs():
    assert source_roots("local: /data/case-1, logs/**/PT1H.json, one/PT1H.json, PT1H.json, ./") == [
        "/data/case-1", "logs", "one"]
    assert source_roots("azure: https://acct.blob.core.windows.net/c") == []
    assert (usable_root("a/"), usable_root(".."), usable_root("  "), usable_root("\\")) == ("a", None, None, None)


def test_a_root_is_replaced_only_where_a_path_starts_with_it():
    anon = Anonymizer("k")
    anon.learn_local_roots(["data", "/srv/logs/"])
    folder = anon.text("data/PT1H.json").split("/")[0]
    assert folder.startswith("folder-") and len(folder) == len("folder-") + 10
    assert anon.text("read data, /srv/logs and xdata/PT1H.json; datax/a") == (
        f"read {folder}, {anon.text('/srv/logs')} and xdata/PT1H.json; datax/a")
    assert anon.text("/srv/logs").startswith("folder-") and anon.text("/srv/logs") != folder
    assert Anonymizer("k").text("data/PT1H.json") == "data/PT1H.json"  # nothing learned: nothing hidden


@pytest.mark.parametrize("fmt", ["md", "html", "csv"])
def test_an_anonymised_report_names_no_local_folder(tmp_path, fmt):
    """The folder read from (``incident-contoso-4711`` here) stayed in every ``blob`` cell and in the
    sources of anonymised reports: it may name the customer. It is now ``folder-<hash>``."""
    root = tmp_path / "incident-contoso-4711" / "connectivity"
    shutil.copytree(SAMPLES / "connectivity", root)
    flows = flowkit.read_flow_logs(root)
    findings = investigate(flows, ["connectivity"], pairs=[("10.10.2.4", "10.10.3.4", 1433, None)], figures=False)
    report = Report(findings, flows=flows).anonymize(Anonymizer("k"))
    out = tmp_path / ("report" if fmt == "csv" else f"report.{fmt}")
    report.write(out, fmt)
    texts = [p.read_text(encoding="utf-8-sig") for p in ([out] if out.is_file() else sorted(out.iterdir()))]
    assert not [t for t in texts if "contoso" in t or str(tmp_path) in t]
    expected = Anonymizer("k")
    expected.learn_local_roots([str(root)])
    folder = expected.text(str(root))
    assert folder.startswith("folder-")
    assert any(f"{folder}/insights-logs-flowlogflowevent/" in t for t in texts)  # the layout stays
    assert report.sources == [f"local: {folder}"]
