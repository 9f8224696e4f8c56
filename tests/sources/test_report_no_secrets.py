"""No secret reaches a report: reports built from Azurite with an account key and with a SAS."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs


from flowkit.cli import main as cli_main
from flowkit.report import Report, investigate
from flowkit.sources.layout import VNET_CONTAINER
from flowkit.sources.redact import secret_variants

from conftest import ACCOUNT, KEY


def _output_text(path: Path) -> str:
    """Everything a written report holds, as text (every file beside it, every part of an XLSX)."""
    paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    files_dir = path.with_name(path.stem + "_files")
    if files_dir.is_dir():
        paths += sorted(files_dir.iterdir())
    parts = []
    for p in paths:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        elif p.suffix != ".png":
            parts.append(p.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def _secrets_found(text: str, secrets: list[str]) -> list[str]:
    found = [s[:12] + "…" for secret in secrets for s in secret_variants(secret) if s in text]
    lowered = text.lower()
    found += [w for w in ("accountkey=", "sig=", "sharedaccesssignature=") if w in lowered]
    return found



def test_report_from_key_source_has_no_key(azurite, estate, tmp_path):
    from flowkit import read_flow_logs
    from flowkit.sources.azure import AzureBlobSource

    source = AzureBlobSource(account_url=azurite.endpoint, credential=KEY, progress=False)
    flows = read_flow_logs(source, start="2024-05-01T08:00Z", end="2024-05-01T13:00Z", progress=False)
    assert len(flows) > 0
    report = Report(investigate(flows, progress=False), flows=flows)
    assert report.sources == [f"azure: {azurite.endpoint}/{{insights-logs-networksecuritygroupflowevent,"
                              f"insights-logs-flowlogflowevent}}"]
    for fmt in ("html", "md", "xlsx", "csv"):
        target = report.write(tmp_path / f"r.{fmt}" if fmt != "csv" else tmp_path / "r", format=fmt)
        text = _output_text(target)
        assert "azure: http://127.0.0.1" in text
        assert _secrets_found(text, [KEY]) == [], fmt
    assert _secrets_found(repr(report) + str(report.metadata()) + report._repr_html_(), [KEY]) == []


def test_cli_report_with_connection_string_and_sas(azurite, estate, tmp_path, capsys, monkeypatch):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    out = tmp_path / "key.html"
    assert cli_main(["report", f"azure://{ACCOUNT}", "-o", str(out), "--no-progress", "--start", "2024-05-01T08:00Z",
                     "--anonymize", "--anonymize-key", "k-123456"]) == 0
    std = capsys.readouterr()
    text = _output_text(out)
    assert "Denied traffic" in text
    assert _secrets_found(text + std.out + std.err, [KEY, azurite.connection_string]) == []

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    signature = parse_qs(sas)["sig"][0]
    url = f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}"
    for fmt in ("html", "md", "xlsx"):
        target = tmp_path / f"sas.{fmt}"
        assert cli_main(["report", url, "-o", str(target), "--start", "2024-05-01T08:00Z",
                         "--progress"]) == 0  # progress bars on: their text is checked too
        std = capsys.readouterr()
        text = _output_text(target)
        assert f"azure: {azurite.endpoint}/{VNET_CONTAINER}" in text
        assert _secrets_found(text + std.out + std.err, [KEY, sas, signature]) == []
