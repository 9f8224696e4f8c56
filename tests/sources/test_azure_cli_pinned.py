"""A SAS URL given where the CLI expects something else (an inventory file, a Dask scheduler)
is named in the error without its signature."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from flowkit.cli import main as cli_main
from flowkit.errors import SourceError
from flowkit.inventory import read_inventory
from flowkit.sources.layout import VNET_CONTAINER

from conftest import ACCOUNT, KEY
from secrets_check import assert_no_secret, reachable_texts


def _sas_url(azurite) -> tuple[str, list[str]]:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(ACCOUNT, VNET_CONTAINER, account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    return f"{azurite.endpoint}/{VNET_CONTAINER}?{sas}", [sas, parse_qs(sas)["sig"][0]]


def test_a_sas_url_given_as_the_inventory_is_named_without_its_signature(azurite, estate, capsys):
    url, secrets = _sas_url(azurite)
    shown = f"http:/127.0.0.1:{azurite.port}/{ACCOUNT}/{VNET_CONTAINER}?REDACTED"  # a local path: "//" is one "/"
    assert cli_main(["diagnose", url, "--start", "2024-05-01T10:00Z", "--end", "2024-05-01T11:00Z",
                     "--src", "10.10.1.4", "--dst", "198.51.100.3", "--inventory", url]) == 2
    out = capsys.readouterr()
    assert out.err == f"flowkit diagnose: error: cannot read inventory {shown}: No such file or directory\n"
    with pytest.raises(SourceError) as info:
        read_inventory(url)
    assert str(info.value) == f"cannot read inventory {shown}: No such file or directory"
    assert isinstance(info.value.__cause__, FileNotFoundError)  # still the cause, emptied
    text = reachable_texts(info.value) + out.out + out.err
    assert_no_secret(text, KEY, *secrets)
    assert "sig=" not in text


@pytest.mark.parametrize("address, shown", [
    pytest.param("SAS-URL", "{endpoint}/" + VNET_CONTAINER + "?REDACTED", id="sas-url"),
    pytest.param(f"tcp://{ACCOUNT}:{KEY}@127.0.0.1:1", "tcp://REDACTED@127.0.0.1:1", id="key-as-password"),
])
def test_an_address_dask_refuses_is_named_without_its_secret(azurite, estate, capsys, address, shown):
    """``--dask`` takes an optional value: ``flowkit inspect --dask URL PATH`` makes the URL the scheduler."""
    url, secrets = _sas_url(azurite)
    address = url if address == "SAS-URL" else address
    assert cli_main(["inspect", "--dask", address, str(estate)]) == 2
    out = capsys.readouterr()
    assert out.err == (f"flowkit inspect: error: '{shown.format(endpoint=azurite.endpoint)}' is not a Dask "
                       f"scheduler address: give tcp://host:port, or 'local'\n")
    assert_no_secret(out.out + out.err, KEY, KEY.split("/")[0], *secrets)
