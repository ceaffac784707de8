"""Who gets which grant, and the bound it puts on every view: grant ∩ link ∩ sidebar, never wider than the grant."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.access import Bound, Identity, find_grant, identity_from_claims, may_open, narrow
from evidence_app.access.grants import may_see_connection_details
from evidence_app.config.settings import AccessConfig, Grant
from evidence_app.reconcile import Period, Scope
from evidence_app.ui.links import parse_day

AUG, OCT = date(2026, 8, 1), date(2026, 10, 29)


def _access(*grants: Grant) -> AccessConfig:
    return AccessConfig("https://idp/x", "c", "A", "B", Path("/tmp/log.db"), grants=grants)


WERNER = Grant(role="auditor", email="Werner@Consultant.example", tenants=("vie-neubau", "vie-spittelberg"), index=0)
ADMIN = Grant(role="admin", sub="sub-admin", index=1)


def test_a_grant_is_found_by_sub():
    assert find_grant(_access(WERNER, ADMIN), Identity(sub="sub-admin", email="someone@x")) is ADMIN


def test_a_grant_is_found_by_email_ignoring_case():
    assert find_grant(_access(WERNER), Identity(sub="w", email="werner@consultant.EXAMPLE",
                                                email_verified=True)) is WERNER


def test_an_email_the_idp_says_is_unverified_matches_no_grant():
    assert find_grant(_access(WERNER), Identity(sub="w", email="werner@consultant.example",
                                                email_verified=False)) is None


def test_a_sub_grant_wins_over_an_email_grant():
    by_sub = Grant(role="engineer", sub="w", index=1)
    assert find_grant(_access(WERNER, by_sub), Identity(sub="w", email="werner@consultant.example")) is by_sub


def test_someone_without_a_grant_gets_none():
    assert find_grant(_access(WERNER, ADMIN), Identity(sub="stranger", email="s@x.example")) is None


def test_claims_without_a_sub_are_no_identity():
    assert identity_from_claims({"email": "werner@consultant.example"}) is None
    assert identity_from_claims({"sub": "w", "email": "e", "email_verified": True}) == Identity("w", "e", True)


@pytest.mark.parametrize(("role", "page", "allowed"), [
    ("auditor", "sources", True), ("auditor", "access_log", False), ("engineer", "access_log", False),
    ("admin", "access_log", True), ("admin", "evidence_pack", True), ("nobody", "overview", False),
])
def test_pages_by_role(role, page, allowed):
    assert may_open(role, page) is allowed


@pytest.mark.parametrize(("role", "details"), [("auditor", False), ("engineer", True), ("admin", True), (None, True)])
def test_only_engineers_and_admins_see_connection_details(role, details):
    assert may_see_connection_details(role) is details


def test_no_bound_passes_the_request_through():
    asked = Scope(tenant=("ist-kadikoy",), action=("cache_purge",))
    n = narrow(Bound(), Period(AUG, OCT), asked)
    assert n.scope == asked and n.period == Period(AUG, OCT) and n.refused == ()


def test_no_tenant_asked_means_the_grants_tenants():
    n = narrow(Bound(tenants=("a", "b")), Period(AUG, OCT), Scope())
    assert n.scope.tenant == ("a", "b") and n.refused == ()


def test_a_tenant_inside_the_grant_narrows_further():
    assert narrow(Bound(tenants=("a", "b")), Period(AUG, OCT), Scope(tenant=("b",))).scope.tenant == ("b",)


def test_a_tenant_outside_the_grant_is_dropped_and_named():
    n = narrow(Bound(tenants=("a", "b")), Period(AUG, OCT), Scope(tenant=("b", "z")))
    assert n.scope.tenant == ("b",) and n.refused == ("tenant z",)


def test_only_outside_tenants_asked_shows_the_grant_not_them():
    n = narrow(Bound(tenants=("a",)), Period(AUG, OCT), Scope(tenant=("z",)))
    assert n.scope.tenant == ("a",) and "tenant z" in n.refused


def test_other_filters_are_kept_inside_the_grant():
    n = narrow(Bound(tenants=("a",)), Period(AUG, OCT), Scope(operator=("anna",), route=("/r",), action=("x",)))
    assert (n.scope.operator, n.scope.route, n.scope.action) == (("anna",), ("/r",), ("x",))


def test_the_period_is_clamped_to_the_grants_days():
    n = narrow(Bound(period=(date(2026, 9, 1), date(2026, 9, 30))), Period(AUG, OCT), Scope())
    assert n.period == Period(date(2026, 9, 1), date(2026, 9, 30)) and n.refused


def test_a_period_wholly_outside_the_grant_falls_back_to_the_grants_days():
    n = narrow(Bound(period=(date(2026, 9, 1), date(2026, 9, 30))), Period(date(2027, 1, 1), date(2027, 1, 2)),
               Scope())
    assert n.period == Period(date(2026, 9, 1), date(2026, 9, 30))


def test_the_first_and_last_day_of_the_grant_are_inside():
    n = narrow(Bound(period=(AUG, OCT)), Period(AUG, OCT), Scope())
    assert n.period == Period(AUG, OCT) and n.refused == ()


DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
NAMES = st.sampled_from(["a", "b", "c", "d"])


@given(granted=st.lists(NAMES, min_size=1, max_size=3, unique=True), asked=st.lists(NAMES, max_size=4, unique=True),
       lo=DAYS, span=st.integers(0, 60), start=DAYS, length=st.integers(0, 90))
def test_a_narrowed_view_never_leaves_the_grant(granted, asked, lo, span, start, length):
    bound = Bound(tenants=tuple(granted), period=(lo, lo + timedelta(days=span)))
    n = narrow(bound, Period(start, start + timedelta(days=length)), Scope(tenant=tuple(asked)))
    assert n.scope.tenant and set(n.scope.tenant) <= set(granted)
    assert lo <= n.period.start <= n.period.end <= lo + timedelta(days=span)
    inside = [t for t in asked if t in granted]
    assert n.scope.tenant == (tuple(inside) if inside else tuple(granted))


def test_a_pack_built_under_a_limited_grant_says_so_on_its_cover_and_in_its_manifest(tmp_path):
    import subprocess
    from datetime import datetime, timezone

    from evidence_app.config.settings import load_config
    from evidence_app.evidence.build import build_pack
    from evidence_app.evidence.sign import SigningOptions, keygen

    from pdftools import tool

    pdftotext = tool("pdftotext")
    key, cert = keygen(tmp_path / "id", valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc))
    limit = "built by werner@consultant.example (auditor), whose access is limited to tenants vie-neubau"
    built = build_pack(load_config(None), Period(date(2026, 10, 1), date(2026, 10, 15)), Scope(tenant=("vie-neubau",)),
                       SigningOptions(key=key, cert=cert, passphrase_env="T_NO_PASSPHRASE"),
                       datetime(2026, 10, 30, tzinfo=timezone.utc), out=tmp_path / "p.pdf", access_limit=limit)
    cover = subprocess.run([pdftotext, "-l", "1", str(built.path), "-"], capture_output=True, text=True).stdout
    assert "Access limited" in " ".join(cover.split()) and "werner@consultant.example (auditor)" in cover
    assert built.manifest["access_limit"] == limit


@given(st.one_of(st.none(), st.text(max_size=30)))
def test_a_day_in_a_link_is_a_date_or_nothing_never_an_error(value):
    parsed = parse_day(value)
    assert parsed is None or isinstance(parsed, date)


# ------------------------------------------------------------------ who matches an email grant

KELLY = Grant(role="admin", email="kelly@example.org", index=0)
STRAUSS = Grant(role="admin", email="strauss@example.org", index=0)


def test_an_email_grant_matches_when_email_verified_is_json_true():
    who = identity_from_claims({"sub": "k", "email": "Kelly@Example.ORG", "email_verified": True})
    assert find_grant(_access(KELLY), who) is KELLY


@pytest.mark.parametrize("claims", [
    {"email_verified": "true"}, {"email_verified": "false"}, {"email_verified": 1}, {"email_verified": 0},
    {"email_verified": None}, {"email_verified": [True]}, {"email_verified": {"value": True}}, {},
], ids=["str-true", "str-false", "one", "zero", "null", "list", "object", "absent (Entra ID)"])
def test_an_email_grant_never_matches_unless_email_verified_is_json_true(claims):
    who = identity_from_claims({"sub": "k", "email": "kelly@example.org", **claims})
    assert who is not None and who.email_verified is False
    assert find_grant(_access(KELLY), who) is None


@pytest.mark.parametrize("grant, email", [
    (KELLY, "\u212aelly@example.org"),      # KELVIN SIGN folds to k under Unicode case folding
    (STRAUSS, "strau\u00df@example.org"),   # ß folds to ss
    (KELLY, "kelly@example.org\u200b"),     # zero-width space
    (KELLY, "ke\u0301lly@example.org"),     # a combining accent
    (KELLY, "kelly@exampl\u0435.org"),      # Cyrillic е
    (KELLY, "KELLY@EXAMPLE.ORG "),          # trailing space
], ids=["kelvin", "eszett", "zwsp", "combining", "cyrillic", "space"])
def test_a_lookalike_mailbox_never_gets_the_grant(grant, email):
    who = Identity(sub="attacker", email=email, email_verified=True)
    assert find_grant(_access(grant), who) is None


@settings(max_examples=500, deadline=None)
@given(st.emails(), st.emails() | st.text(min_size=1, max_size=30))
def test_two_different_mailboxes_never_share_a_grant(granted, other):
    """Different unless they differ only in the case of ASCII letters: then the same mailbox, the same grant."""
    same_mailbox = granted.lower() == other.lower() and granted.isascii() and other.isascii()
    found = find_grant(_access(Grant(role="admin", email=granted, index=0)),
                       Identity(sub="someone", email=other, email_verified=True))
    assert (found is not None) == same_mailbox, (granted, other)


def test_a_grant_config_with_two_lookalike_emails_keeps_both_apart():
    """Only ASCII case makes two grants the same person: Kelvin-sign kelly is another mailbox, not a duplicate."""
    kelvin = Grant(role="auditor", email="\u212aelly@example.org", index=1)
    assert find_grant(_access(KELLY, kelvin), Identity("x", "\u212aelly@example.org", True)) is kelvin
    assert find_grant(_access(KELLY, kelvin), Identity("y", "KELLY@example.org", True)) is KELLY
