"""The rules of sign-in with real providers, in small cases (the browser runs are in test_oidc_provider_browser.py):
group grants and how several grants combine, claims completed from userinfo, what a failed sign-in may show, the
sign-in's client settings, and a redirect URI a browser can reach."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.access import Identity, combined, find_grant, groups_of, identity_from_claims, matching_grants
from evidence_app.cli import main
from evidence_app.config.settings import AccessConfig, Grant, load_config
from evidence_app.ui import oidc, serving

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"T_CLIENT_SECRET": "client-secret-value", "T_COOKIE_SECRET": "k" * 40}
ACCESS = ('[access]\noidc_metadata_url = "https://idp.example/.well-known/openid-configuration"\n'
          'client_id = "evidence-app"\nclient_secret_env = "T_CLIENT_SECRET"\ncookie_secret_env = "T_COOKIE_SECRET"\n')
GRANT = '\n[[access.grant]]\ngroup = "evidence-auditors"\nrole = "auditor"\n'
AUG, SEP, OCT = (date(2026, 8, 1), date(2026, 8, 31)), (date(2026, 9, 1), date(2026, 9, 30)), \
    (date(2026, 10, 1), date(2026, 10, 31))


def _access(*grants: Grant, groups_claim: str = "groups") -> AccessConfig:
    return AccessConfig("https://idp/x", "c", "A", "B", Path("/tmp/log.db"), grants=grants, groups_claim=groups_claim)


def _config(scenario, access: str = ACCESS, grants: str = GRANT) -> Path:
    scenario.extra_config = access + grants
    return scenario.write()


# --- grants ---------------------------------------------------------------------------------------------------

def test_a_group_grant_matches_a_group_exactly():
    auditors = Grant(role="auditor", group="evidence-auditors", index=0)
    assert find_grant(_access(auditors), Identity(sub="a", groups=("canteen", "evidence-auditors"))) is auditors
    for near in ("Evidence-Auditors", "evidence-auditors ", "evidence", "evidence-auditors-2"):
        assert find_grant(_access(auditors), Identity(sub="a", groups=(near,))) is None


def test_several_grants_give_the_widest_role_and_the_union_of_tenants_and_days():
    engineers = Grant(role="engineer", group="eng", tenants=("vie-neubau",), period=AUG, index=0)
    auditors = Grant(role="auditor", group="aud", tenants=("ist-kadikoy", "vie-neubau"), period=SEP, index=1)
    who = Identity(sub="g", groups=("aud", "eng"))
    assert matching_grants(_access(engineers, auditors), who) == (engineers, auditors)
    both = find_grant(_access(engineers, auditors), who)
    assert both.role == "engineer"
    assert both.tenants == ("vie-neubau", "ist-kadikoy") and both.period == (AUG[0], SEP[1])


def test_a_side_any_matching_grant_leaves_unlimited_is_unlimited():
    limited = Grant(role="admin", group="a", tenants=("vie-neubau",), period=AUG, index=0)
    open_days = Grant(role="auditor", sub="s", tenants=("ist-kadikoy",), index=1)
    both = combined((limited, open_days))
    assert both.role == "admin" and both.period is None and both.tenants == ("vie-neubau", "ist-kadikoy")
    everything = combined((limited, Grant(role="auditor", sub="s", period=SEP, index=1)))
    assert everything.tenants == () and everything.period == (AUG[0], SEP[1])


def test_days_with_a_gap_between_grants_give_no_access_rather_than_the_gap():
    assert combined((Grant(role="auditor", group="a", period=AUG), Grant(role="auditor", group="b", period=OCT))) \
        is None


def test_email_sub_and_group_grants_all_count_when_the_email_is_verified():
    by_email = Grant(role="auditor", email="w@x.example", tenants=("a",), index=0)
    by_sub = Grant(role="auditor", sub="w", tenants=("b",), index=1)
    by_group = Grant(role="engineer", group="g", tenants=("c",), index=2)
    who = Identity(sub="w", email="W@x.example", email_verified=True, groups=("g",))
    assert find_grant(_access(by_email, by_sub, by_group), who).tenants == ("a", "b", "c")
    unverified = Identity(sub="w", email="w@x.example", groups=("g",))
    assert matching_grants(_access(by_email, by_sub, by_group), unverified) == (by_sub, by_group)


@pytest.mark.parametrize(("value", "groups"), [
    (["a", "b", "a"], ("a", "b")), ("a  b\tc", ("a", "b", "c")), ([1, None, "x", ["y"], ""], ("x",)),
    (None, ()), (7, ()), ({"a": 1}, ()), ("", ()),
])
def test_the_groups_claim_is_a_list_or_a_space_separated_string(value, groups):
    assert groups_of(value) == groups


def test_the_groups_claim_is_the_one_access_groups_claim_names():
    who = identity_from_claims({"sub": "s", "groups": ["x"], "roles": "evidence-admins"}, "roles")
    assert who.groups == ("evidence-admins",)


# --- config ---------------------------------------------------------------------------------------------------

def test_group_grants_and_the_sign_in_settings_are_read(scenario):
    access = load_config(_config(scenario, ACCESS + 'groups_claim = "roles"\nprompt = "login consent"\n'
                                 'token_endpoint_auth_method = "client_secret_post"\n'
                                 'authorize_params = { domain_hint = "spittelberg.example" }\n')).access
    assert access.grants[0].group == "evidence-auditors" and access.grants[0].who == "group evidence-auditors"
    assert access.groups_claim == "roles" and access.prompt == "login consent"
    assert access.token_endpoint_auth_method == "client_secret_post"
    assert access.authorize_params == (("domain_hint", "spittelberg.example"),)


def test_by_default_no_prompt_is_sent_and_the_secret_goes_in_basic_auth(scenario):
    access = load_config(_config(scenario)).access
    assert access.prompt is None and access.token_endpoint_auth_method == "client_secret_basic"
    assert access.groups_claim == "groups" and access.authorize_params == ()


@pytest.mark.parametrize(("extra", "grants", "named"), [
    ('prompt = "none"\n', GRANT, "access.prompt"),
    ('prompt = "login login"\n', GRANT, "access.prompt"),
    ('token_endpoint_auth_method = "tls_client_auth"\n', GRANT, "access.token_endpoint_auth_method"),
    ('token_endpoint_auth_method = "private_key_jwt"\n', GRANT, "access.private_key_file_env"),
    ('private_key_file_env = "T_KEY"\n', GRANT, "access.private_key_file_env"),
    ('authorize_params = { prompt = "login" }\n', GRANT, "access.authorize_params"),
    ('authorize_params = { state = "x" }\n', GRANT, "access.authorize_params"),
    ('authorize_params = { max_age = 5 }\n', GRANT, "access.authorize_params"),
    ('groups_claim = ""\n', GRANT, "access.groups_claim"),
    ('redirect_uri = "https://evidence.example.com/"\n', GRANT, "access.redirect_uri"),
    ("", GRANT + 'email = "a@b.example"\n', "access.grant[0]"),
    ("", GRANT + GRANT.replace('"auditor"', '"admin"'), "access.grant[1]"),
])
def test_sign_in_setting_mistakes_exit_2_naming_the_key(scenario, extra, grants, named):
    res = CliRunner().invoke(main, ["coverage", "--config", str(_config(scenario, ACCESS + extra, grants))])
    assert res.exit_code == 2 and named in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_private_key_jwt_reads_the_key_file_the_environment_names(scenario, monkeypatch, tmp_path):
    from evidence_app.config.settings import access_secrets
    from evidence_app.errors import ConfigError

    access = load_config(_config(scenario, ACCESS.replace('client_secret_env = "T_CLIENT_SECRET"\n', "")
                                 + 'token_endpoint_auth_method = "private_key_jwt"\nprivate_key_file_env = "T_KEY"\n'
                                 )).access
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    assert access_secrets(access, {"T_KEY": str(key), "T_COOKIE_SECRET": "k" * 40}).client_secret.startswith(
        "-----BEGIN PRIVATE KEY-----")
    for env in ({"T_COOKIE_SECRET": "k" * 40}, {"T_KEY": str(tmp_path / "absent.pem"), "T_COOKIE_SECRET": "k" * 40}):
        with pytest.raises(ConfigError, match="access.private_key_file_env"):
            access_secrets(access, env)


# --- a redirect URI a browser can reach -----------------------------------------------------------------------

@pytest.mark.parametrize("address", ["0.0.0.0", "::", "[::]", "224.0.0.1", "*", "bad_host!"])
def test_serve_on_an_address_no_browser_can_return_to_needs_a_redirect_uri(scenario, monkeypatch, address):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    res = CliRunner().invoke(main, ["serve", "--config", str(_config(scenario)), "--address", address])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "redirect_uri" in res.stderr and f"--address {address}" in res.stderr


@pytest.mark.parametrize(("address", "uri"), [
    ("127.0.0.1", "http://127.0.0.1:8501/oauth2callback"),
    ("evidence.internal", "http://evidence.internal:8501/oauth2callback"),
    ("10.1.2.3", "http://10.1.2.3:8501/oauth2callback"), ("::1", "http://[::1]:8501/oauth2callback"),
])
def test_a_usable_bind_address_gives_the_default_redirect_uri(scenario, address, uri):
    assert serving.redirect_uri(load_config(_config(scenario)), address, 8501) == uri


def test_a_configured_redirect_uri_serves_on_every_interface(scenario, monkeypatch):
    cfg = load_config(_config(scenario, ACCESS + 'redirect_uri = "https://evidence.example.com/oauth2callback"\n'))
    assert serving.redirect_uri(cfg, "0.0.0.0", 8501) == "https://evidence.example.com/oauth2callback"


# --- claims from userinfo -------------------------------------------------------------------------------------

def test_userinfo_completes_the_id_token_which_wins_where_both_speak():
    merged = oidc.merged_claims({"sub": "s", "email": "id@x.example", "iss": "https://idp"},
                                {"sub": "s", "email": "other@x.example", "email_verified": True, "groups": ["g"]})
    assert merged == {"sub": "s", "email": "id@x.example", "iss": "https://idp", "email_verified": True,
                      "groups": ["g"]}


@pytest.mark.parametrize("other", [{"sub": "t"}, {}, {"sub": None}, {"sub": ["s"]}])
def test_userinfo_about_another_subject_is_refused(other):
    with pytest.raises(ValueError, match="another subject"):
        oidc.merged_claims({"sub": "s"}, {**other, "email": "x@y.example", "email_verified": True})


def test_userinfo_is_asked_only_when_the_id_token_lacks_a_claim_grants_use():
    assert oidc.needs_userinfo({"sub": "s"}, "groups")
    assert not oidc.needs_userinfo({"sub": "s", "email": "a", "email_verified": True, "groups": []}, "groups")
    assert oidc.needs_userinfo({"sub": "s", "email": "a", "email_verified": True, "groups": []}, "roles")


# --- failures -------------------------------------------------------------------------------------------------

def test_a_failure_is_one_masked_line():
    found = oidc.failure("invalid_client", "bad secret hunter2\nfor https://u:pw@idp.example/t?client_secret=abc",
                         secret="hunter2")
    line = found.line()
    assert line.startswith("Sign-in failed: invalid_client — bad secret ***") and "\n" not in line
    assert "hunter2" not in line and "pw@" not in line and "abc" not in line


def test_an_error_code_outside_the_oauth_alphabet_is_not_repeated():
    assert oidc.failure("<script>alert(1)</script>", "x").code == "invalid_error"


@settings(max_examples=200, deadline=None)
@given(code=st.one_of(st.none(), st.text(), st.integers()), description=st.one_of(st.none(), st.text()),
       secret=st.one_of(st.none(), st.text(min_size=1)))
def test_any_provider_answer_makes_one_short_line(code, description, secret):
    line = oidc.failure(code, description, secret).line()
    assert "\n" not in line and "\r" not in line and len(line) < 400


def test_a_failure_is_handed_to_the_page_once():
    token = oidc.keep(oidc.Failure("invalid_request", "unsupported prompt value requested"))
    assert oidc.take(token).code == "invalid_request"
    assert oidc.take(token) is None and oidc.take("forged") is None and oidc.take(None) is None


def test_a_nonce_mismatch_in_the_id_token_is_an_invalid_id_token_failure():
    from authlib.oidc.core import CodeIDToken

    now = int(time.time())
    claims = CodeIDToken({"iss": "https://idp", "sub": "s", "aud": "c", "exp": now + 60, "iat": now,
                          "nonce": "from-another-sign-in"}, {"alg": "RS256"}, None, {"nonce": "ours", "client_id": "c"})
    with pytest.raises(Exception) as caught:
        claims.validate()
    found = oidc._classified(caught.value, type("Client", (), {"client_secret": "s3cret"})())
    assert found.code == "invalid_id_token" and "nonce" in found.description


# --- the sign-in's client settings ----------------------------------------------------------------------------

def _authorize_url(access: AccessConfig) -> str:
    """The authorisation URL a Streamlit-configured Authlib client builds after :func:`oidc.configure`."""
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register("default", client_id="c", client_secret="s", authorize_url="https://idp.example/auth",
                   access_token_url="https://idp.example/token",
                   client_kwargs={"scope": "openid email profile", "prompt": "select_account"})
    client = oauth.create_client("default")
    oidc.configure(client, access)
    return asyncio.run(client.create_authorization_url("http://127.0.0.1:8501/oauth2callback"))["url"]


def test_streamlits_select_account_prompt_is_not_sent_unless_configured():
    from dataclasses import replace

    assert "prompt=" not in _authorize_url(_access())
    assert "prompt=login" in _authorize_url(replace(_access(), prompt="login"))
    url = _authorize_url(replace(_access(), authorize_params=(("domain_hint", "spittelberg.example"),)))
    assert "domain_hint=spittelberg.example" in url and "nonce=" in url and "state=" in url


def test_the_groups_scope_is_asked_for_only_when_a_grant_names_a_group():
    by_email = Grant(role="auditor", email="werner@consultant.example", index=0)
    by_group = Grant(role="engineer", group="evidence-engineers", index=1)
    assert not oidc.wants_groups(_access(by_email)) and oidc.wants_groups(_access(by_email, by_group))


def test_the_groups_scope_is_asked_for_only_where_the_provider_offers_it():
    client = type("Client", (), {})()
    client.client_kwargs = {"scope": "openid email profile"}
    oidc.with_groups_scope(client, {"scopes_supported": ["openid", "email", "profile"]}, "groups")
    assert client.client_kwargs["scope"] == "openid email profile"
    for _ in range(2):
        oidc.with_groups_scope(client, {"scopes_supported": ["openid", "groups"]}, "groups")
    assert client.client_kwargs["scope"] == "openid email profile groups"


@pytest.mark.parametrize(("make", "alg"), [("rsa", "RS256"), ("p256", "ES256"), ("p384", "ES384")])
def test_private_key_jwt_signs_with_the_keys_own_algorithm(make, alg):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if make == "rsa"
           else ec.generate_private_key(ec.SECP256R1() if make == "p256" else ec.SECP384R1()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    assert oidc.signing_key(pem)[1] == alg


def test_private_key_jwt_takes_a_private_jwk_with_its_own_alg_and_kid(tmp_path):
    from joserfc.jwk import ECKey

    from evidence_app.config.settings import access_secrets

    jwk = ECKey.generate_key("P-256", parameters={"kid": "evidence-2026", "alg": "ES256"}).as_dict(private=True)
    key, alg = oidc.signing_key(json.dumps(jwk))
    assert alg == "ES256" and key.kid == "evidence-2026"
    path = tmp_path / "key.jwk"
    path.write_text(json.dumps(jwk))
    access = AccessConfig("https://idp/x", "c", "", "B", Path("/tmp/log.db"),
                          token_endpoint_auth_method="private_key_jwt", private_key_file_env="T_KEY")
    assert access_secrets(access, {"T_KEY": str(path), "B": "k" * 40}).client_secret == path.read_text()
    path.write_text(json.dumps({k: v for k, v in jwk.items() if k != "d"}))  # a public key only
    with pytest.raises(Exception, match="no PEM private key or private JWK"):
        access_secrets(access, {"T_KEY": str(path), "B": "k" * 40})


def test_the_sign_in_routes_of_the_installed_streamlit_are_the_ones_completed(monkeypatch):
    from streamlit.web.server.starlette import starlette_auth_routes as routes

    for name in ("_create_oauth_client", "_auth_login", "_auth_callback"):
        monkeypatch.setattr(routes, name, getattr(routes, name))  # restored after the test
    monkeypatch.setattr(routes, "_evidence_installed", False, raising=False)
    before = routes._auth_callback
    oidc.install(_access())
    assert routes._auth_callback is not before and routes._auth_callback.__qualname__.startswith("install.")
    assert routes._auth_login.__module__ == routes._create_oauth_client.__module__ == "evidence_app.ui.oidc"



def test_the_session_keeps_only_the_groups_a_grant_names_whatever_the_claims_form():
    access = _access(Grant(role="engineer", group="evidence-engineers", index=0),
                     Grant(role="auditor", email="werner@consultant.example", index=1))
    many = [f"group-{i:04d}" for i in range(5000)] + ["evidence-engineers"]
    kept = oidc.for_cookie({"sub": "u1", "groups": many, "email": "e@x"}, access)
    assert kept == {"sub": "u1", "groups": ["evidence-engineers"], "email": "e@x"}
    spaced = oidc.for_cookie({"sub": "u1", "groups": " ".join(many)}, access)
    assert spaced["groups"] == ["evidence-engineers"]
    assert oidc.for_cookie({"sub": "u1"}, access) == {"sub": "u1"}
    whole = identity_from_claims({"sub": "u1", "groups": many, "email": "e@x"}, "groups")
    assert matching_grants(access, identity_from_claims(kept, "groups")) == matching_grants(access, whole)
    assert matching_grants(access, whole)  # the group grant still matches, from the kept group alone
