"""Sign-in against a certified OpenID provider with its defaults: panva's `oidc-provider` 9 (npm), run by Node on
127.0.0.1, driven in Chromium through its own login and consent pages, against `evidence-app serve`.

Its defaults are what real providers do and the mock does not: ``prompt=select_account`` is refused, the ID token
carries only ``sub`` (``email``, ``email_verified`` and the groups come from the userinfo endpoint), a client may
only authenticate the way it was registered, and sign-out ends the provider's session on its own page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from evidence_app.cli import main

from browser import WAIT_MS, answers, chromium, free_port, need_browser, running, settle, stop, until
from conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
VERSION = "9.13.3"  # panva's oidc-provider, pinned
PACKAGE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evidence-app-tests" / "oidc-provider"
SECRET = "basic-client-secret-3f9a1c"
JWT_SECRET = "client-secret-jwt-" + "5e" * 24  # HS256 needs a secret of at least 32 bytes at the provider
COOKIE = "c0ffee" * 8
ACCOUNTS = {
    "werner": {"email": "werner@consultant.example", "email_verified": True, "groups": []},
    "grace": {"email": "grace@spittelberg.example", "email_verified": True,
              "groups": ["evidence-engineers", "evidence-auditors", "canteen"]},
    "mallory": {"email": "werner@consultant.example", "email_verified": False, "groups": "canteen"},
}
GRANTS = """
[[access.grant]]
email = "werner@consultant.example"
role = "auditor"
tenants = ["vie-leopoldstadt"]

[[access.grant]]
group = "evidence-engineers"
role = "engineer"
tenants = ["vie-neubau"]
period = ["2026-08-01", "2026-09-15"]

[[access.grant]]
group = "evidence-auditors"
role = "auditor"
tenants = ["ist-kadikoy"]
period = ["2026-09-01", "2026-10-29"]
"""
PROVIDER_JS = """
// panva's oidc-provider with its defaults, plus this test's clients and accounts (claims served at userinfo;
// the groups only to a client that asks for the `groups` scope, as Okta does).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [pkg, setupFile] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(`${pkg}/node_modules/oidc-provider/lib/index.js`).href);
const setup = JSON.parse(readFileSync(setupFile, 'utf8'));
const provider = new Provider(`http://127.0.0.1:${setup.port}`, {
  clients: setup.clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  async findAccount(ctx, id) {
    if (!(id in setup.accounts)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...setup.accounts[id] }; } };
  },
});
provider.listen(setup.port, '127.0.0.1');
"""


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        reason = f"{tool} is not installed (Node.js runs the OpenID provider; .ci/run installs it)"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def provider_package() -> Path:
    """panva's oidc-provider, installed once into the test cache at the pinned version."""
    need_browser()
    node, npm = _need("node"), _need("npm")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
                .split(".")[0] or 0)
    if major < 20:
        reason = f"oidc-provider {VERSION} needs Node.js 20 or later; {node} is {major}"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    manifest = PACKAGE / "node_modules" / "oidc-provider" / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != VERSION:
        PACKAGE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(PACKAGE), f"oidc-provider@{VERSION}", "--no-audit",
                               "--no-fund"], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"npm install oidc-provider@{VERSION} failed: {done.stderr[-2000:]}")
    return PACKAGE


def _rsa_key(folder: Path) -> tuple[Path, dict]:
    """A private key file for private_key_jwt and its public JWK for the provider's client registration."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = folder / "client-key.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, RSAKey.import_key(pem.decode()).as_dict(private=False)


def _ec_jwk(folder: Path) -> tuple[Path, dict]:
    """A private EC key as a JSON Web Key file (with its kid) and the public half for the registration."""
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", parameters={"kid": "evidence-ec-1"})
    path = folder / "client-key.jwk"
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return path, key.as_dict(private=False)


@pytest.fixture(scope="module")
def world(provider_package, tmp_path_factory):
    """The provider, with one client per authentication method (each naming the app ports it may return to)."""
    folder = tmp_path_factory.mktemp("oidc-provider")
    ports = {name: free_port() for name in ("basic", "post", "jwt", "pkjwt", "pkjwt-ec", "refused", "wrong", "down",
                                              "liar", "gone")}
    back = {name: f"http://127.0.0.1:{port}/oauth2callback" for name, port in ports.items()}
    key_file, public = _rsa_key(folder)
    ec_file, ec_public = _ec_jwk(folder)
    clients = [
        {"client_id": "evidence-basic", "client_secret": SECRET,
         "redirect_uris": [back["basic"], back["refused"], back["wrong"], back["liar"], back["gone"]],
         "post_logout_redirect_uris": [back["basic"]]},
        {"client_id": "evidence-post", "client_secret": SECRET, "redirect_uris": [back["post"]],
         "token_endpoint_auth_method": "client_secret_post"},
        {"client_id": "evidence-jwt", "client_secret": JWT_SECRET, "redirect_uris": [back["jwt"]],
         "token_endpoint_auth_method": "client_secret_jwt"},
        {"client_id": "evidence-pkjwt", "redirect_uris": [back["pkjwt"]],
         "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [public]}},
        {"client_id": "evidence-pkjwt-ec", "redirect_uris": [back["pkjwt-ec"]],
         "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec_public]}},
    ]
    port = free_port()
    setup = folder / "setup.json"
    setup.write_text(json.dumps({"port": port, "clients": clients, "accounts": ACCOUNTS}))
    script = folder / "provider.mjs"
    script.write_text(PROVIDER_JS)
    proc = subprocess.Popen(["node", str(script), str(provider_package), str(setup)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: answers(f"{url}/.well-known/openid-configuration"), proc, "oidc-provider did not start")
        yield {"url": url, "ports": ports, "folder": folder, "key_file": key_file, "ec_file": ec_file}
    finally:
        stop(proc)


def write_config(world: dict, name: str, client_id: str, extra: str = "", idp: str | None = None) -> Path:
    folder = world["folder"] / name
    folder.mkdir(exist_ok=True)
    cfg = folder / "evidence.toml"
    cfg.write_text(textwrap.dedent(f"""\
        [organisation]
        name = "Test GmbH"

        [audit]
        url = "sqlite:///{SAMPLE / 'audit.db'}"

        [operations]
        url = "sqlite:///{SAMPLE / 'operations.db'}"

        [worker_logs]
        paths = ["{SAMPLE}/logpush/**/*.log.gz"]

        [access]
        oidc_metadata_url = "{idp or world['url']}/.well-known/openid-configuration"
        client_id = "{client_id}"
        cookie_secret_env = "T_COOKIE_SECRET"
        log = "{folder / 'access-log.db'}"
        """) + extra + GRANTS, encoding="utf-8")
    return cfg


@contextmanager
def app(world: dict, name: str, client_id: str, extra: str = 'client_secret_env = "T_SECRET"\n',
        env: dict | None = None, idp: str | None = None):
    """`evidence-app serve` for one client configuration, on its registered port; yields (url, config)."""
    cfg = write_config(world, name, client_id, extra, idp)
    port = world["ports"][name]
    with running([sys.executable, "-m", "evidence_app", "serve", "--config", str(cfg),
                  "--port", str(port)], port, env={"T_COOKIE_SECRET": COOKIE, "T_SECRET": SECRET, **(env or {})}
                 ) as url:
        yield url, cfg


@pytest.fixture(scope="module")
def browser(world):
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def basic(world):
    with app(world, "basic", "evidence-basic") as found:
        yield found


@contextmanager
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1400})
    try:
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        yield pg
    finally:
        context.close()


def start_sign_in(pg, url: str) -> None:
    pg.goto(url)
    pg.get_by_role("heading", name="Sign in").wait_for()
    settle(pg)
    pg.get_by_role("button", name="Sign in").click()


def provider_login(pg, login: str) -> None:
    """The provider's own pages: its login form, then its consent."""
    pg.locator("input[name='login']").fill(login)
    pg.locator("input[name='password']").fill("any password")
    pg.get_by_role("button", name="Sign-in").click()
    pg.get_by_role("button", name="Continue").click()


def sign_in(pg, url: str, login: str, heading: str = "Audit-trail completeness") -> None:
    start_sign_in(pg, url)
    provider_login(pg, login)
    pg.get_by_role("heading", name=heading).wait_for()
    settle(pg)


def sidebar(pg) -> str:
    """The sidebar's text as read (without the zero-width spaces that keep addresses from becoming links)."""
    return pg.get_by_test_id("stSidebar").inner_text().replace("\u200b", "")


def entries(cfg: Path) -> list[dict]:
    res = CliRunner().invoke(main, ["access-log", "export", "--config", str(cfg), "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def failure_shown(pg, text: str) -> str:
    """The one line the sign-in page shows after a failed sign-in."""
    pg.get_by_role("heading", name="Sign in").wait_for()
    alert = pg.get_by_test_id("stAlertContentError").filter(has_text="Sign-in failed")
    alert.wait_for()
    shown = alert.inner_text()
    assert text in shown, shown
    return shown


def test_the_providers_defaults_sign_in_with_email_and_groups_from_userinfo_and_no_prompt(world, basic, browser):
    url, cfg = basic
    asked: list[str] = []
    with page(browser) as pg:
        pg.on("request", lambda r: asked.append(r.url) if r.url.startswith(world["url"] + "/auth?") else None)
        sign_in(pg, url, "werner")
        assert "Signed in as werner@consultant.example · auditor" in sidebar(pg)
    query = parse_qs(urlparse(asked[0]).query)
    assert "prompt" not in query and query["code_challenge_method"] == ["S256"] and query["nonce"]
    signed = [e for e in entries(cfg) if e["action"] == "sign_in" and e["sub"] == "werner"][-1]
    assert signed["email"] == "werner@consultant.example" and signed["params"]["email_verified"] is True
    assert signed["params"]["grants"] == ["access.grant[0] email werner@consultant.example"]


def test_several_group_grants_give_the_widest_role_and_the_union_of_tenants_and_days(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        sign_in(pg, url, "grace")
        side = sidebar(pg)
    assert ("grace@spittelberg.example · engineer · limited to tenants vie-neubau, ist-kadikoy and days "
            "2026-08-01 – 2026-10-29") in side
    signed = [e for e in entries(cfg) if e["action"] == "sign_in" and e["sub"] == "grace"][-1]
    assert signed["role"] == "engineer"
    assert signed["scope"] == {"tenants": ["vie-neubau", "ist-kadikoy"], "period": ["2026-08-01", "2026-10-29"]}
    assert signed["params"]["grants"] == ["access.grant[1] group evidence-engineers",
                                          "access.grant[2] group evidence-auditors"]


def _forge_nonce(context, url: str) -> None:
    """Replace the nonce of the sign-in this browser started (kept in Streamlit's signed session cookie, whose key
    the test knows) — as if the ID token were one minted for another sign-in."""
    import base64

    import itsdangerous

    signer = itsdangerous.TimestampSigner(COOKIE)
    cookie = next(c for c in context.cookies(url) if c["name"] == "_streamlit_session")
    session = json.loads(base64.b64decode(signer.unsign(cookie["value"])))
    states = [v for k, v in session.items() if k.startswith("_state_")]
    assert len(states) == 1 and states[0]["data"]["nonce"]
    states[0]["data"]["nonce"] = "nonce-of-another-sign-in"
    value = signer.sign(base64.b64encode(json.dumps(session).encode())).decode()
    context.add_cookies([{**{k: cookie[k] for k in ("name", "domain", "path", "httpOnly", "sameSite")},
                          "value": value}])


def test_an_id_token_with_another_sign_ins_nonce_is_refused_said_and_logged(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        start_sign_in(pg, url)
        pg.locator("input[name='login']").wait_for()
        _forge_nonce(pg.context, url)
        provider_login(pg, "werner")
        failure_shown(pg, "Sign-in failed: invalid_id_token")
        assert pg.get_by_test_id("stSidebar").count() == 0
    failed = [e for e in entries(cfg) if e["action"] == "sign_in_failed"][-1]
    assert failed["params"]["error"] == "invalid_id_token" and "nonce" in failed["params"]["description"]


@contextmanager
def misbehaving(idp: str, userinfo_sub: str | None = None, token_endpoint: str | None = None):
    """The certified provider seen through a proxy serving its discovery document with ``userinfo_endpoint``
    pointing here — answering for ``userinfo_sub`` where given — and ``token_endpoint`` replaced where given; the
    login, consent and ID token are the provider's own."""
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Liar(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.startswith("/.well-known/openid-configuration"):
                with urllib.request.urlopen(idp + self.path, timeout=30) as res:
                    doc = json.loads(res.read())
                doc["userinfo_endpoint"] = f"http://127.0.0.1:{self.server.server_port}/me"
                doc["token_endpoint"] = token_endpoint or doc["token_endpoint"]
            else:
                ask = urllib.request.Request(idp + "/me", headers={"Authorization": self.headers["Authorization"]})
                with urllib.request.urlopen(ask, timeout=30) as res:
                    doc = json.loads(res.read())
                doc["sub"] = userinfo_sub or doc["sub"]
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_userinfo_about_another_subject_refuses_the_sign_in(world, browser):
    with misbehaving(world["url"], userinfo_sub="admin-1") as liar, \
            app(world, "liar", "evidence-basic", idp=liar) as (url, cfg), page(browser) as pg:
        start_sign_in(pg, url)
        provider_login(pg, "werner")
        failure_shown(pg, "Sign-in failed: sub_mismatch")
    actions = [e["action"] for e in entries(cfg)]
    assert actions == ["sign_in_failed"] and entries(cfg)[0]["params"]["error"] == "sub_mismatch"


def test_a_token_endpoint_that_cannot_be_reached_is_said_and_logged(world, browser):
    closed = f"http://127.0.0.1:{free_port()}/token"
    with misbehaving(world["url"], token_endpoint=closed) as idp, \
            app(world, "gone", "evidence-basic", idp=idp) as (url, cfg), page(browser) as pg:
        start_sign_in(pg, url)
        provider_login(pg, "werner")
        failure_shown(pg, "Sign-in failed: provider_unreachable")
    assert [(e["action"], e["params"]["error"]) for e in entries(cfg)] == [("sign_in_failed", "provider_unreachable")]


def test_cancelling_at_the_provider_is_said_and_logged(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        start_sign_in(pg, url)
        pg.get_by_role("link", name="[ Cancel ]").click()
        failure_shown(pg, "Sign-in failed: access_denied")
    failed = [e for e in entries(cfg) if e["action"] == "sign_in_failed"][-1]
    assert failed["params"]["error"] == "access_denied"


def test_an_unverified_email_from_userinfo_takes_no_grant(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        sign_in(pg, url, "mallory", heading="No access")
    denied = [e for e in entries(cfg) if e["sub"] == "mallory"][-1]
    assert denied["action"] == "sign_in_denied" and denied["params"]["grants"] == []


def test_sign_out_ends_the_providers_session_too(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        sign_in(pg, url, "werner")
        asked: list[str] = []
        pg.on("request", lambda r: asked.append(r.url) if "/session/end" in r.url else None)
        pg.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        pg.get_by_role("button", name="Yes, sign me out").click()  # the provider's own logout page
        pg.get_by_role("heading", name="Sign in").wait_for()
        query = parse_qs(urlparse(asked[0]).query)
        assert query["post_logout_redirect_uri"] == [f"{url}/oauth2callback"] and query["id_token_hint"]
        start_sign_in(pg, url)
        pg.locator("input[name='login']").wait_for()  # the provider asks again: its session is gone
    assert [e["action"] for e in entries(cfg) if e["sub"] == "werner"][-1] == "sign_out"


def test_a_forged_answer_does_not_sign_out_whoever_follows_it(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        sign_in(pg, url, "werner")
        before = mismatches(cfg)
        pg.goto(f"{url}/oauth2callback?code=stolen&state=forged")
        pg.get_by_role("heading", name="Audit-trail completeness").wait_for()
        assert "Signed in as werner@consultant.example" in sidebar(pg)
    assert mismatches(cfg) == before + 1  # recorded all the same


def mismatches(cfg: Path) -> int:
    return sum(e["action"] == "sign_in_failed" and e["params"]["error"] == "state_mismatch" for e in entries(cfg))


def test_a_forged_or_stale_answer_is_a_state_mismatch_said_and_logged(world, basic, browser):
    url, cfg = basic
    with page(browser) as pg:
        pg.goto(f"{url}/oauth2callback?code=stolen&state=forged&error_description=click+evil.example")
        shown = failure_shown(pg, "state_mismatch")
        assert "evil" not in shown
    failed = [e for e in entries(cfg) if e["action"] == "sign_in_failed"][-1]
    assert failed["params"]["error"] == "state_mismatch"


@pytest.mark.parametrize("name, client_id, extra, env", [
    ("post", "evidence-post", 'client_secret_env = "T_SECRET"\ntoken_endpoint_auth_method = "client_secret_post"\n',
     {}),
    ("jwt", "evidence-jwt", 'client_secret_env = "T_SECRET"\ntoken_endpoint_auth_method = "client_secret_jwt"\n',
     {"T_SECRET": JWT_SECRET}),
    ("pkjwt", "evidence-pkjwt", 'token_endpoint_auth_method = "private_key_jwt"\nprivate_key_file_env = "T_KEY"\n',
     None),
    ("pkjwt-ec", "evidence-pkjwt-ec",
     'token_endpoint_auth_method = "private_key_jwt"\nprivate_key_file_env = "T_KEY"\n', "ec"),
], ids=["client_secret_post", "client_secret_jwt", "private_key_jwt", "private_key_jwt-ec-jwk"])
def test_each_token_endpoint_auth_method_signs_in_against_a_client_registered_that_way(world, browser, name,
                                                                                        client_id, extra, env):
    env = {"T_KEY": str(world["key_file"])} if env is None else {"T_KEY": str(world["ec_file"])} if env == "ec" else env
    with app(world, name, client_id, extra, env) as (url, cfg), page(browser) as pg:
        sign_in(pg, url, "werner")
    actions = [e["action"] for e in entries(cfg)]
    assert actions[0] == "sign_in" and "sign_in_failed" not in actions


def test_a_refused_prompt_is_one_line_on_the_page_and_sign_in_failed_in_the_log(world, browser):
    with app(world, "refused", "evidence-basic", 'client_secret_env = "T_SECRET"\nprompt = "select_account"\n'
             ) as (url, cfg), page(browser) as pg:
        start_sign_in(pg, url)
        failure_shown(pg, "Sign-in failed: invalid_request — unsupported prompt value requested")
    failed = entries(cfg)[-1]
    assert failed["action"] == "sign_in_failed" and failed["params"]["error"] == "invalid_request"


def test_a_wrong_client_secret_is_said_without_the_secret(world, browser):
    wrong = "not-the-registered-secret-81b2"
    with app(world, "wrong", "evidence-basic", env={"T_SECRET": wrong}) as (url, cfg), page(browser) as pg:
        start_sign_in(pg, url)
        provider_login(pg, "werner")
        shown = failure_shown(pg, "Sign-in failed: invalid_client")
        assert wrong not in pg.content()
    failed = entries(cfg)[-1]
    assert failed["action"] == "sign_in_failed" and failed["params"]["error"] == "invalid_client"
    assert wrong not in json.dumps(failed) and shown.count("\n") == 0


def test_an_unreachable_provider_is_said_and_logged(world, browser):
    closed = f"http://127.0.0.1:{free_port()}"
    with app(world, "down", "evidence-basic", idp=closed) as (url, cfg), page(browser) as pg:
        start_sign_in(pg, url)
        failure_shown(pg, "Sign-in failed: provider_unreachable")
    failed = entries(cfg)[-1]
    assert failed["action"] == "sign_in_failed" and failed["params"]["error"] == "provider_unreachable"
