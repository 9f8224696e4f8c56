"""User info with "/" in its password is masked; addresses without user info are left whole."""

from __future__ import annotations

import pytest

from flowkit.sources.redact import redact, strip_query, userinfo_secrets

from conftest import ACCOUNT, KEY


@pytest.mark.parametrize("text, expected", [
    pytest.param(f"https://{ACCOUNT}:{KEY}@{ACCOUNT}.blob.core.windows.net/c",
                 f"https://REDACTED@{ACCOUNT}.blob.core.windows.net/c", id="key-as-password"),
    pytest.param("ftp://u:ab/cd@host/x", "ftp://REDACTED@host/x", id="slash-in-password"),
    pytest.param("ftp://u:pw@host/x", "ftp://REDACTED@host/x", id="plain-password"),
    pytest.param(f"http://127.0.0.1:10000/{ACCOUNT}/c/x@y.json", f"http://127.0.0.1:10000/{ACCOUNT}/c/x@y.json",
                 id="port-then-at-in-path"),
    pytest.param(f"http://[::1]:10000/{ACCOUNT}/c/x@y.json", f"http://[::1]:10000/{ACCOUNT}/c/x@y.json",
                 id="ipv6-port-then-at-in-path"),
    pytest.param("https://acct.blob.core.windows.net/c/a:b@c", "https://acct.blob.core.windows.net/c/a:b@c",
                 id="colon-and-at-in-path"),
])
def test_redact_user_info(text, expected):
    assert redact(text) == expected


def test_strip_query_drops_a_password_holding_slashes():
    assert strip_query(f"https://{ACCOUNT}:{KEY}@{ACCOUNT}.blob.core.windows.net/c?sv=1&sig=2") == (
        f"https://{ACCOUNT}.blob.core.windows.net/c")


def test_userinfo_secrets_are_the_password_and_its_pieces():
    head, _, rest = KEY.partition("/")
    secrets = userinfo_secrets(f"http://{ACCOUNT}:{KEY}@127.0.0.1:10000/{ACCOUNT}")
    assert secrets[0] == KEY and head in secrets and ACCOUNT not in secrets
    assert userinfo_secrets(f"http://127.0.0.1:10000/{ACCOUNT}/c/x@y") == []
    assert userinfo_secrets("ftp://user@host/x") == []
