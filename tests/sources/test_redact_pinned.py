"""User info with "/" in its password is masked; addresses without user info are left whole; a bare
account key (a key pasted where a path belongs) is masked by its shape."""

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


def _random_key() -> str:
    import base64
    import os

    return base64.b64encode(os.urandom(64)).decode()  # the shape of a storage account key


def test_an_account_key_given_where_a_path_belongs_is_not_echoed(capsys):
    from flowkit.cli import main as cli_main

    key = _random_key()
    assert cli_main(["inspect", key]) == 2
    assert capsys.readouterr().err == "flowkit inspect: error: no such file or folder: 'REDACTED'\n"
    assert redact(f"key {KEY}.") == "key REDACTED."  # Azurite's, "/" and all


@pytest.mark.parametrize("text", [
    "h=00/m=00/macAddress=000D3A000101/PT1H.json",
    "A" * 86 + "=",          # one "=": not a 64-byte key
    "A" * 87 + "==",         # a longer run is not a key either
    "ab==cd",
])
def test_text_that_only_looks_a_bit_like_a_key_is_left_alone(text):
    from flowkit.sources.redact import redact_name

    assert redact(text) == text and redact_name(text) == text



def test_the_form_of_a_sas_in_a_hint_is_shown_but_a_real_one_is_masked():
    assert redact("Add a SAS to the URL (?sv=…&sig=…), or a key") == "Add a SAS to the URL (?sv=…&sig=…), or a key"
    assert redact("https://a.blob.core.windows.net/c?sv=…&sig=abcdef") == "https://a.blob.core.windows.net/c?REDACTED"
    assert redact("sig=… then sig=abcdef") == "sig=… then sig=REDACTED"


def test_the_cli_masks_a_secret_in_any_flowkit_error_it_prints(monkeypatch, capsys):
    # The last line of defence: an error message that quotes a SAS by mistake is masked on the way out.
    import flowkit.cli.inspect as inspect_command
    from flowkit.cli import main as cli_main
    from flowkit.errors import SourceError

    def leaky(args):
        raise SourceError("cannot read https://acct.blob.core.windows.net/c?sv=2024-08-04&sig=c2VjcmV0 (oops)")

    monkeypatch.setattr(inspect_command, "run", leaky)
    assert cli_main(["inspect", "anything"]) == 2
    assert capsys.readouterr().err == (
        "flowkit inspect: error: cannot read https://acct.blob.core.windows.net/c?REDACTED (oops)\n")


@pytest.mark.parametrize("name, shown", [
    pytest.param("logs/x\udcff.json", "logs/x\\xff.json", id="one-byte"),
    pytest.param("l\udce9/PT1H.json?sv=1&sig=abc", "l\\xe9/PT1H.json?REDACTED", id="with-a-sas"),
    pytest.param("logs/é.json", "logs/é.json", id="utf8-kept"),
])
def test_a_name_that_is_not_utf8_shows_its_bytes(name, shown):
    from flowkit.sources.redact import redact_name

    assert redact_name(name) == shown
    redact_name(name).encode("utf-8")  # text every writer takes
