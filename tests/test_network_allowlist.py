"""The egress allowlist: what each entry lets through, and clear errors for bad entries."""

from __future__ import annotations

import re

import pytest

from airlock.network.allowlist import Allowlist, AllowlistError, entry_for, normalize_entry


def allows(entries: list[str], host: str, port: int = 443) -> bool:
    return Allowlist(entries).decide(host, port).allowed


def test_empty_allowlist_denies_everything() -> None:
    decision = Allowlist().decide("allowed.test", 443)
    assert not decision.allowed
    assert decision.reason == "not in allowlist"


def test_exact_domain_matches_case_insensitively_and_with_a_trailing_dot() -> None:
    assert allows(["allowed.test"], "allowed.test")
    assert allows(["Allowed.TEST."], "ALLOWED.test.")
    assert not allows(["allowed.test"], "www.allowed.test")
    assert not allows(["allowed.test"], "notallowed.test")
    assert (
        Allowlist(["allowed.test"]).decide("allowed.test", 80).reason == "allowlist: allowed.test"
    )


def test_wildcard_matches_subdomains_at_any_depth_but_not_the_domain_itself() -> None:
    entries = ["*.allowed.test"]
    assert allows(entries, "api.allowed.test")
    assert allows(entries, "a.b.allowed.test")
    assert not allows(entries, "allowed.test")
    assert not allows(entries, "evilallowed.test")
    assert allows(["*.allowed.test", "allowed.test"], "allowed.test")


def test_only_ports_80_and_443_unless_an_entry_names_another() -> None:
    assert allows(["allowed.test"], "allowed.test", 80)
    assert not allows(["allowed.test"], "allowed.test", 8080)
    assert allows(["allowed.test:8080"], "allowed.test", 8080)
    assert not allows(["allowed.test:8080"], "allowed.test", 443)
    assert allows(["*.allowed.test:8443"], "x.allowed.test", 8443)
    decision = Allowlist(["allowed.test"]).decide("allowed.test", 22)
    assert decision.reason == "port 22 not allowed for allowed.test"


def test_ip_literals_are_denied_unless_listed_literally() -> None:
    decision = Allowlist(["allowed.test", "*.allowed.test"]).decide("127.0.0.1", 80)
    assert not decision.allowed
    assert decision.reason == "IP address not in allowlist"
    assert allows(["127.0.0.1"], "127.0.0.1")
    assert allows(["[::1]:8080"], "[::1]", 8080)
    assert allows(["::1"], "0:0::1", 443)


def test_unusual_ip_spellings_are_treated_as_the_address_they_stand_for() -> None:
    # Resolvers read these as 127.0.0.1, so they must not pass as host names.
    for spelling in ("127.1", "0x7f.0.0.1", "2130706433"):
        decision = Allowlist(["allowed.test"]).decide(spelling, 80)
        assert decision.reason == "IP address not in allowlist"
        assert allows(["127.0.0.1"], spelling, 80)


def test_international_names_compare_in_their_idna_form() -> None:
    assert allows(["bücher.test"], "xn--bcher-kva.test")
    assert normalize_entry("*.Bücher.test") == "*.xn--bcher-kva.test"


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("Allowed.Test.", "allowed.test"),
        (" allowed.test ", "allowed.test"),
        ("*.ALLOWED.test:8443", "*.allowed.test:8443"),
        ("[0:0::1]:8080", "[::1]:8080"),
        ("0:0::1", "::1"),
        ("127.1", "127.0.0.1"),
    ],
)
def test_entries_are_stored_in_canonical_form(entry: str, canonical: str) -> None:
    assert normalize_entry(entry) == canonical


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "cannot be empty"),
        ("https://allowed.test/x", "without a scheme"),
        ("allowed.test/path", "only a host"),
        ("user@allowed.test", "only a host"),
        ("*", "`*` is only allowed"),
        ("*.test", "at least two labels"),
        ("a*.allowed.test", "`*` is only allowed"),
        ("*.*.allowed.test", "`*` is only allowed"),
        ("*.127.0.0.1", "at least two labels"),
        ("allowed.test:0", "from 1 to 65535"),
        ("allowed.test:70000", "from 1 to 65535"),
        ("allowed.test:http", "from 1 to 65535"),
        ("-bad-.test", "not a valid host name"),
        ("1.2.3.4.5", "not a valid host name"),
        ("[allowed.test]:80", "only for IPv6"),
        ("[::1", "missing `]`"),
    ],
)
def test_invalid_entries_are_rejected_with_a_clear_message(entry: str, message: str) -> None:
    with pytest.raises(AllowlistError, match=re.escape(message)):
        normalize_entry(entry)


def test_scheme_error_suggests_the_bare_host() -> None:
    with pytest.raises(AllowlistError) as caught:
        normalize_entry("https://allowed.test/x")
    assert caught.value.hint == "e.g. allowed.test"


def test_building_an_allowlist_reports_the_bad_entry() -> None:
    with pytest.raises(AllowlistError, match="'bad host'"):
        Allowlist(["allowed.test", "bad host"])


def test_entries_are_deduplicated_in_order_and_editable() -> None:
    allowlist = Allowlist(["b.test", "A.test", "a.test."])
    assert allowlist.entries == ("b.test", "a.test")
    assert allowlist.with_entry("c.test").entries == ("b.test", "a.test", "c.test")
    assert allowlist.without_entry("B.TEST").entries == ("a.test",)
    assert allowlist.entries == ("b.test", "a.test")  # unchanged: lists are immutable


def test_entry_for_is_the_narrowest_entry_allowing_that_host_and_port() -> None:
    assert entry_for("Denied.TEST", 443) == "denied.test"
    assert entry_for("denied.test", 8080) == "denied.test:8080"
    assert entry_for("[::1]", 8080) == "[::1]:8080"
    for host, port in (("denied.test", 8080), ("::1", 443), ("10.0.0.1", 80)):
        assert allows([entry_for(host, port)], host, port)
