"""azure_address pinned: addresses split into their parts, SAS detection, and error texts (pure, no Azurite)."""

from __future__ import annotations

import dataclasses

import pytest

from flowkit.errors import SourceError
from flowkit.sources import azure_address
from flowkit.sources.azure_address import Address, check_endpoint, parse_address, signatures

from secrets_check import assert_no_secret, exception_texts

SECRET = "TOPSECRET"


def test_public_names():
    assert azure_address.__all__ == ["Address", "parse_address", "check_endpoint", "sas_query", "signatures"]


def test_an_address_is_a_value_that_cannot_be_changed_and_shows_no_sas():
    address = parse_address(f"https://acct.blob.core.windows.net/c/p?sv=2024-08-04&sig={SECRET}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.container = "other"  # type: ignore[misc]
    assert repr(address) == ("Address(account_url='https://acct.blob.core.windows.net', account='acct', "
                             "container='c', prefix='p', sas=REDACTED)")
    assert address.sas == f"sv=2024-08-04&sig={SECRET}"


@pytest.mark.parametrize("url, expected", [
    pytest.param("http://[::ffff:127.0.0.1]:10000/devstoreaccount1/c/p",
                 Address("http://[::ffff:127.0.0.1]:10000/devstoreaccount1", "devstoreaccount1", "c", "p", None),
                 id="ipv6-with-dots"),
    pytest.param("http://[::1]:10000/devstoreaccount1/c/p%20q",
                 Address("http://[::1]:10000/devstoreaccount1", "devstoreaccount1", "c", "p q", None), id="ipv6"),
    pytest.param("http://host.docker.internal:10000/devstoreaccount1/c",
                 Address("http://host.docker.internal:10000/devstoreaccount1", "devstoreaccount1", "c", "", None),
                 id="docker-host"),
    pytest.param("https://acct.blob.core.windows.net/XLogs/Xp",
                 Address("https://acct.blob.core.windows.net", "acct", "XLogs", "Xp", None), id="url-as-typed"),
    pytest.param("azure://acct/XLogs/Xp",
                 Address("https://acct.blob.core.windows.net", "acct", "XLogs", "Xp", None), id="azure-as-typed"),
])
def test_parts_of_an_address(url, expected):
    assert parse_address(url) == expected


@pytest.mark.parametrize("query, sas", [
    pytest.param("sv=2024-08-04", "sv=2024-08-04", id="sv-only"),
    pytest.param("SIG=abc", "SIG=abc", id="sig-only-any-case"),
    pytest.param("sv=1&amp;sig=abc", "sv=1&sig=abc", id="html-escaped"),
    pytest.param("comp=list&restype=container", None, id="not-a-sas"),
    pytest.param("", None, id="no-query"),
])
def test_a_query_is_kept_as_the_sas_only_when_it_is_one(query, sas):
    assert parse_address(f"https://acct.blob.core.windows.net/c?{query}").sas == sas


@pytest.mark.parametrize("query, sas", [
    pytest.param(f"sv=2024-01-01&sig={SECRET}", f"sv=2024-01-01&sig={SECRET}", id="sas"),
    pytest.param("comp=list", None, id="not-a-sas"),
])
def test_an_azure_address_keeps_its_sas_as_a_url_does(query, sas):
    """azure://ACCOUNT/CONTAINER?<SAS> used to drop the SAS in silence (the read then tried other credentials)."""
    address = parse_address(f"azure://acct/c/pre?{query}")
    assert (address.account_url, address.container, address.prefix, address.sas) == \
        ("https://acct.blob.core.windows.net", "c", "pre", sas)
    assert_no_secret(repr(address), SECRET)


def test_signatures_are_every_sig_value_whatever_the_case_and_the_question_mark():
    assert signatures("?sv=1&SIG=a%2Fb&amp;sig=c&Sig=d&sigx=e") == ["a/b", "c", "d"]
    assert signatures("sv=1&se=x") == []
    assert signatures("?Xsig=a&sv=1") == []  # a name that only ends in "sig" is not one


@pytest.mark.parametrize("url, message", [
    pytest.param("https:///c", "not a blob storage address: 'https:///c'", id="no-host"),
    pytest.param("ftp://acct/c", "not a blob storage address: 'ftp://acct/c'", id="other-scheme"),
    pytest.param("azure:///c", "an azure:// address needs an account: azure://ACCOUNT/CONTAINER[/PREFIX]",
                 id="azure-no-account"),
    pytest.param(f"http://user:{SECRET}@127.0.0.1:99999/x?sig={SECRET}",
                 "not a valid blob storage address: 'http://REDACTED@127.0.0.1:99999/x?REDACTED' "
                 "(Port out of range 0-65535)", id="bad-port"),
    pytest.param("http://[::1/x", "not a valid blob storage address: 'http://[::1/x' (Invalid IPv6 URL)",
                 id="bad-ipv6"),
])
def test_errors_say_what_is_wrong_without_secrets(url, message):
    with pytest.raises(SourceError) as info:
        parse_address(url)
    assert str(info.value) == message
    assert_no_secret(exception_texts(info.value), SECRET)


def test_an_invalid_endpoint_is_named_without_its_query_and_trailing_slash_only():
    with pytest.raises(SourceError) as info:
        check_endpoint(f"http://127.0.0.1:99999/acctX/?sig={SECRET}")
    assert str(info.value) == "the storage endpoint http://127.0.0.1:99999/acctX is not valid: Port out of range 0-65535"
    assert_no_secret(exception_texts(info.value), SECRET)
