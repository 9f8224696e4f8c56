"""The two estates the scenarios run on (see ``data-samples/SCENARIOS.md``).

Examples
--------
>>> [n.vm for n in app_nics()][:2]
['web-01', 'web-02']
>>> app_nics(nic_nsg_on_app_01=True)[2].nsgs
('nsg-snet-app', 'nsg-nic-app-01')
"""

from __future__ import annotations

from flowkit.synth.estate import Nic

__all__ = ["app_nics", "secure_nics", "by_vm"]


def app_nics(nic_nsg_on_app_01: bool = False) -> list[Nic]:
    """The six NICs of ``vnet-app`` (10.10.0.0/16), one NSG per subnet.

    Examples
    --------
    >>> app_nics()[4].ip
    '10.10.3.4'
    """
    return [
        Nic("web-01", "000D3A000101", "10.10.1.4", "vnet-app", "snet-web", "10.10.1.0/24", "nsg-snet-web"),
        Nic("web-02", "000D3A000102", "10.10.1.5", "vnet-app", "snet-web", "10.10.1.0/24", "nsg-snet-web"),
        Nic("app-01", "000D3A000201", "10.10.2.4", "vnet-app", "snet-app", "10.10.2.0/24", "nsg-snet-app",
            "nsg-nic-app-01" if nic_nsg_on_app_01 else None),
        Nic("app-02", "000D3A000202", "10.10.2.5", "vnet-app", "snet-app", "10.10.2.0/24", "nsg-snet-app"),
        Nic("db-01", "000D3A000301", "10.10.3.4", "vnet-app", "snet-data", "10.10.3.0/24", "nsg-snet-data"),
        Nic("cache-01", "000D3A000302", "10.10.3.5", "vnet-app", "snet-data", "10.10.3.0/24", "nsg-snet-data"),
    ]


def secure_nics() -> list[Nic]:
    """The four NICs of ``vnet-secure`` (10.20.0.0/16).

    Examples
    --------
    >>> secure_nics()[3].vm
    'legacy-01'
    """
    return [
        Nic("sec-app-01", "000D3A000401", "10.20.1.4", "vnet-secure", "snet-sec-app", "10.20.1.0/24",
            "nsg-snet-sec-app"),
        Nic("sec-app-02", "000D3A000402", "10.20.1.5", "vnet-secure", "snet-sec-app", "10.20.1.0/24",
            "nsg-snet-sec-app"),
        Nic("sec-db-01", "000D3A000403", "10.20.2.4", "vnet-secure", "snet-sec-data", "10.20.2.0/24",
            "nsg-snet-sec-data"),
        Nic("legacy-01", "000D3A000404", "10.20.1.6", "vnet-secure", "snet-sec-app", "10.20.1.0/24",
            "nsg-snet-sec-app"),
    ]


def by_vm(nics: list[Nic]) -> dict[str, Nic]:
    """Index NICs by VM name.

    Examples
    --------
    >>> by_vm(app_nics())["db-01"].mac
    '000D3A000301'
    """
    return {n.vm: n for n in nics}
