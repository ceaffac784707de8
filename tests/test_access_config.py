"""[access] in evidence.toml and what `serve` does with it: every mistake names its key (exit 2), secrets come
only from the environment and reach Streamlit through a private file, and without [access] the app stays on
loopback."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.cli import main
from evidence_app.config.settings import access_secrets, load_config, parse_config
from evidence_app.errors import ConfigError
from evidence_app.ui import serving

from conftest import WAIT_S

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"T_CLIENT_SECRET": "client-secret-value", "T_COOKIE_SECRET": "k" * 40}
ACCESS = ('[access]\noidc_metadata_url = "https://idp.example/.well-known/openid-configuration"\n'
          'client_id = "evidence-app"\nclient_secret_env = "T_CLIENT_SECRET"\ncookie_secret_env = "T_COOKIE_SECRET"\n')
GRANT = '\n[[access.grant]]\nemail = "werner@consultant.example"\nrole = "auditor"\n'


def _with_access(scenario, access: str = ACCESS, grants: str = GRANT) -> Path:
    scenario.extra_config = access + grants
    return scenario.write()


def _coverage_error(cfg: Path) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    return res.exit_code, res.stderr


def test_access_section_is_read_with_its_defaults(scenario):
    cfg = load_config(_with_access(scenario))
    a = cfg.access
    assert a.client_id == "evidence-app" and a.redirect_uri is None
    assert a.log == (cfg.path.parent / "access-log.db").resolve()
    assert a.grants[0].email == "werner@consultant.example" and a.grants[0].tenants == () and a.grants[0].period is None


def test_no_access_section_means_no_sign_in(scenario):
    assert load_config(scenario.write()).access is None


def test_a_grant_with_tenants_and_period_is_read(scenario):
    cfg = load_config(_with_access(scenario, grants=GRANT + 'tenants = ["vie-neubau", "vie-neubau", "x"]\n'
                                                   'period = ["2026-08-01", "2026-10-29"]\n'))
    g = cfg.access.grants[0]
    assert g.tenants == ("vie-neubau", "x") and g.period == (date(2026, 8, 1), date(2026, 10, 29))


@pytest.mark.parametrize(("access", "grants", "named"), [
    (ACCESS + "colour = 1\n", GRANT, "access.colour"),
    (ACCESS.replace('client_id = "evidence-app"\n', ""), GRANT, "access.client_id"),
    (ACCESS.replace('"https://idp.example/', '"ftp://idp.example/'), GRANT, "access.oidc_metadata_url"),
    (ACCESS.replace('"T_CLIENT_SECRET"', '"not a name"'), GRANT, "access.client_secret_env"),
    (ACCESS.replace('"T_COOKIE_SECRET"', "42"), GRANT, "access.cookie_secret_env"),
    (ACCESS + 'redirect_uri = "callback"\n', GRANT, "access.redirect_uri"),
    (ACCESS + "log = 5\n", GRANT, "access.log"),
    (ACCESS, GRANT + "tenant = []\n", "access.grant[0].tenant"),
    (ACCESS, GRANT.replace('email = "werner@consultant.example"\n', ""), "access.grant[0]"),
    (ACCESS, GRANT + 'sub = "abc"\n', "access.grant[0]"),
    (ACCESS, GRANT.replace('"auditor"', '"superuser"'), "access.grant[0].role"),
    (ACCESS, GRANT + 'tenants = "vie-neubau"\n', "access.grant[0].tenants"),
    (ACCESS, GRANT + "tenants = []\n", "access.grant[0].tenants"),
    (ACCESS, GRANT + 'period = ["2026-08-01"]\n', "access.grant[0].period"),
    (ACCESS, GRANT + 'period = ["2026-10-29", "2026-08-01"]\n', "access.grant[0].period"),
    (ACCESS, GRANT + 'period = ["yesterday", "today"]\n', "access.grant[0].period"),
    (ACCESS, GRANT + GRANT.replace("werner@", "WERNER@"), "access.grant[1]"),
    (ACCESS + 'grant = "everyone"\n', "", "access.grant"),
])
def test_access_mistakes_exit_2_naming_the_key(scenario, access, grants, named):
    code, err = _coverage_error(_with_access(scenario, access, grants))
    assert code == 2 and named in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("missing", ["T_CLIENT_SECRET", "T_COOKIE_SECRET"])
def test_serve_without_a_secret_in_the_environment_exits_2_naming_the_key(scenario, monkeypatch, missing):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    res = CliRunner().invoke(main, ["serve", "--config", str(_with_access(scenario))])
    key = "access.client_secret_env" if missing == "T_CLIENT_SECRET" else "access.cookie_secret_env"
    assert res.exit_code == 2 and key in res.stderr and missing in res.stderr


def test_a_short_cookie_secret_is_refused():
    cfg = parse_config({"audit": {"url": f"sqlite:///{ROOT}/sample_data/audit.db"},
                        "operations": {"url": f"sqlite:///{ROOT}/sample_data/operations.db"},
                        "access": {"oidc_metadata_url": "https://idp/x", "client_id": "c",
                                   "client_secret_env": "A", "cookie_secret_env": "B"}}, ROOT / "evidence.toml")
    with pytest.raises(ConfigError, match="access.cookie_secret_env"):
        access_secrets(cfg.access, {"A": "x", "B": "short"})


def test_secrets_never_show_in_their_repr():
    from evidence_app.config.settings import AccessSecrets

    assert "hunter2" not in repr(AccessSecrets("hunter2", "hunter2" * 6))


def test_serve_without_access_refuses_a_non_loopback_address():
    proc = subprocess.run([sys.executable, "-m", "evidence_app", "serve", "--address", "0.0.0.0", "--port", "1"],
                          capture_output=True, text=True, timeout=WAIT_S)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --address 0.0.0.0:") and len(proc.stderr.strip().splitlines()) == 1
    assert "[access]" in proc.stderr


@pytest.mark.parametrize(("address", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
    ("::", False), ("10.0.0.5", False), ("example.com", False), ("localhost.evil.example", False),
])
def test_only_literal_loopback_addresses_count(address, loopback):
    assert serving.is_loopback(address) is loopback


def test_serve_writes_the_auth_secrets_to_a_private_file_outside_the_config_folder(scenario, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    cfg = load_config(_with_access(scenario))
    launch = serving.prepare(cfg, "127.0.0.1", 8765)
    try:
        secrets = Path(launch.argv[launch.argv.index("--secrets.files") + 1])
        text = secrets.read_text()
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
        assert stat.S_IMODE(secrets.parent.stat().st_mode) == 0o700
        assert not secrets.is_relative_to(cfg.path.parent) and not secrets.is_relative_to(ROOT)
        assert 'client_secret = "client-secret-value"' in text and 'cookie_secret = "' + "k" * 40 in text
        assert 'redirect_uri = "http://127.0.0.1:8765/oauth2callback"' in text
        assert "T_CLIENT_SECRET" not in launch.env and "T_COOKIE_SECRET" not in launch.env
        assert "client-secret-value" not in " ".join(launch.argv)
        assert cfg.access.log.is_file()  # created before the server starts, so a bad path fails at once
    finally:
        import shutil

        shutil.rmtree(launch.secrets_dir)


def test_a_configured_redirect_uri_is_used(scenario, monkeypatch):
    cfg = load_config(_with_access(scenario, ACCESS + 'redirect_uri = "https://evidence.example/oauth2callback"\n'))
    assert serving.redirect_uri(cfg, "0.0.0.0", 8501) == "https://evidence.example/oauth2callback"


def test_the_default_redirect_uri_brackets_ipv6(scenario):
    cfg = load_config(_with_access(scenario))
    assert serving.redirect_uri(cfg, "::1", 9000) == "http://[::1]:9000/oauth2callback"


def test_a_secret_with_quotes_stays_one_toml_string(scenario, monkeypatch):
    import shutil
    import tomllib

    cookie, client = 'a"b\\c\n]' + "k" * 32, 'x"\n[evil]\nclient_id = "other"'
    monkeypatch.setenv("T_CLIENT_SECRET", client)
    monkeypatch.setenv("T_COOKIE_SECRET", cookie)
    launch = serving.prepare(load_config(_with_access(scenario)), "127.0.0.1", 8765)
    try:
        written = tomllib.loads(Path(launch.argv[launch.argv.index("--secrets.files") + 1]).read_text())
    finally:
        shutil.rmtree(launch.secrets_dir)
    assert list(written) == ["auth"] and written["auth"]["client_id"] == "evidence-app"
    assert written["auth"]["cookie_secret"] == cookie and written["auth"]["client_secret"] == client


@settings(max_examples=200, deadline=None)
@given(section=st.dictionaries(st.sampled_from(["oidc_metadata_url", "client_id", "client_secret_env",
                                                "cookie_secret_env", "redirect_uri", "log", "grant", "x", "prompt",
                                                "authorize_params", "groups_claim", "token_endpoint_auth_method",
                                                "private_key_file_env"]),
                               st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
                                         st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8),
                                                                                        st.integers()), max_size=3),
                                         st.lists(st.dictionaries(st.sampled_from(["email", "sub", "group", "role",
                                                                                  "tenants", "period", "y"]),
                                                                  st.one_of(st.text(max_size=12), st.integers(),
                                                                            st.lists(st.text(max_size=12),
                                                                                     max_size=3))),
                                                  max_size=3))))
def test_any_access_section_is_accepted_or_refused_with_a_config_error(section):
    raw = {"audit": {"url": f"sqlite:///{ROOT}/sample_data/audit.db"},
           "operations": {"url": f"sqlite:///{ROOT}/sample_data/operations.db"}, "access": section}
    try:
        parse_config(raw, ROOT / "sample_data" / "evidence.toml")
    except ConfigError:
        pass

