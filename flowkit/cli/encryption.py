"""``flowkit encryption``: audit VNet encryption in VNet flow logs.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="flowkit")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> parser.parse_args(["encryption", "logs/", "--json"]).json
True
"""

from __future__ import annotations

import argparse
from typing import Any

from flowkit.cli.diagnose import add_common_arguments, load_flows, load_inventory, write_json, write_text

__all__ = ["register", "run", "ENCRYPTION_JSON_FIELDS"]

#: Fields ``flowkit encryption --json`` prints, in order.
ENCRYPTION_JSON_FIELDS = ("verdict", "flows", "encrypted_share", "by_state", "unsupported_macs", "dropped")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``encryption`` subcommand."""
    parser = subparsers.add_parser(
        "encryption", help="audit VNet encryption (shares, NX reasons, drops, unsupported VMs)",
        description="Share of flows encrypted, flows per encryption state with what it means, NICs "
                    "whose VM size cannot encrypt, and flows dropped by VNet encryption (unencrypted, "
                    "or the host could not encrypt).")
    add_common_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Handle ``flowkit encryption``; returns the exit status (0)."""
    from flowkit.analysis.encryption import encryption_audit

    flows = load_flows(args.paths, args.start, args.end)
    finding = encryption_audit(flows, inventory=load_inventory(args.inventory), figures=False)
    if args.json:
        write_json({k: finding.verdict if k == "verdict" else finding.facts.get(k) for k in ENCRYPTION_JSON_FIELDS})
    else:
        write_text(finding, ("by_state", "vm_pairs", "never_encrypting", "trend"))
    return 0
