"""The line ``python -m flowkit.lab`` prints about FLOWKIT_DATA never shows a SAS or a password."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

from flowkit.lab import settle_data
from flowkit.sources.redact import secret_variants
from nbrun import NOTEBOOKS

#: Azurite's well-known development account and key (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def test_settle_data_shows_a_sas_url_without_its_query() -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(ACCOUNT, "insights-logs-flowlogflowevent", account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    url = f"http://127.0.0.1:10000/{ACCOUNT}/insights-logs-flowlogflowevent"
    inventory = f"https://{ACCOUNT}:{KEY}@{ACCOUNT}.blob.core.windows.net/inv/nics.json"
    env = {"FLOWKIT_DATA": f"{url}?{sas}", "FLOWKIT_INVENTORY": inventory}
    line = settle_data(NOTEBOOKS, env)
    assert line == (f"flowkit: notebooks read your logs in {url}?REDACTED (FLOWKIT_DATA), inventory "
                    f"https://REDACTED@{ACCOUNT}.blob.core.windows.net/inv/nics.json (FLOWKIT_INVENTORY)")
    assert env == {"FLOWKIT_DATA": f"{url}?{sas}", "FLOWKIT_INVENTORY": inventory}  # the notebooks read it whole
    for secret in (sas, parse_qs(sas)["sig"][0], KEY, KEY.split("/")[0]):
        assert not any(v in line for v in secret_variants(secret))
