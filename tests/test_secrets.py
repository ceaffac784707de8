"""Secrets never shown: every credential in a URL is masked in CLI errors and warnings, the pack's PDF, the
web app's Sources page, its config view and its errors — by one function (evidence_app.masking)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from evidence_app.cli import main
from evidence_app.config.settings import load_config, parse_config
from evidence_app.masking import is_secret_key, mask_text, mask_url

from conftest import APP, WAIT_S
from pdftools import pdf_text
from scenario import T0

SECRETS = ("hunter2", "p@ss", "s3cr3t-q", "sslpw-9", "tok-77", "key-55", "/home/me/.pgpass")
QUERY = "password=s3cr3t-q&sslpassword=sslpw-9&passfile=/home/me/.pgpass&token=tok-77&api_key=key-55"


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text] + (["@ss@"] if "@ss@" in text else [])


@pytest.mark.parametrize("url", [
    "postgresql://auditor:hunter2@db.example/audit",
    "postgresql://auditor:p@ss@db.example/audit",
    "postgresql://auditor:p:a@ss@db.example:5432/audit",
    f"postgresql://auditor@db.example/audit?{QUERY}",
    f"mysql://auditor:hunter2@db.example/audit?{QUERY}&charset=utf8mb4",
])
def test_display_url_masks_userinfo_and_secret_query_parameters(tmp_path, url):
    config = parse_config({"audit": {"url": url}, "operations": {"url": url}}, tmp_path / "evidence.toml")
    shown = config.audit.display_url
    assert not _leaks(shown), shown
    assert "db.example" in shown and "auditor" in shown


def test_a_password_holding_at_signs_is_read_whole(tmp_path):
    config = parse_config({"audit": {"url": "postgresql://ro:p@ss@db.example/a"},
                           "operations": {"url": "postgresql://ro:p@ss@db.example/a"}}, tmp_path / "e.toml")
    assert config.audit.url.password == "p@ss" and config.audit.url.host == "db.example"


def test_free_text_masks_urls_and_secret_pairs():
    text = mask_text(f'url = "postgresql://ro:p@ss@h/db?{QUERY}"\nerror: host=h password=hunter2 user=ro')
    assert not _leaks(text), text
    assert "user=ro" in text and "ro:***@h/db" in text


def test_names_that_only_look_like_secrets_are_kept():
    assert not any(is_secret_key(k) for k in ("api_key_rotate", "credential_actions", "sslmode", "keepalives"))
    assert all(is_secret_key(k) for k in ("PASSWORD", "ssl-password", "aws_secret_access_key", "x-api-key", "pwd"))


def test_mask_url_keeps_the_rest_of_the_url_usable():
    from sqlalchemy.engine import make_url

    assert mask_url(make_url("postgresql://ro:pw@h:5433/db?sslmode=require&token=t")) == \
        "postgresql://ro:***@h:5433/db?sslmode=require&token=***"


# ------------------------------------------------------------------ every place a location is shown


def test_cli_connection_error_masks_every_credential(scenario):
    cfg = scenario.write()
    url = f"postgresql://auditor:p@ss@127.0.0.1:1/none?{QUERY}"
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///operations.db"', f'url = "{url}"'))
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    assert "operations" in res.stderr and not _leaks(res.stderr), res.stderr


def test_cli_config_error_masks_an_unparseable_url(scenario):
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', f'url = "oracle://u:p@ss@h/db?{QUERY}"'))
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    assert res.exit_code == 2 and "audit.url" in res.stderr and not _leaks(res.stderr), res.stderr


def _secret_sqlite(scenario) -> Path:
    """A reachable store whose URL carries secrets in its query (SQLite ignores them)."""
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5))
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', f'url = "sqlite:///audit.db?{QUERY}"'))
    return cfg


def test_pack_methodology_masks_secret_query_parameters(scenario, tmp_path):
    cfg = _secret_sqlite(scenario)
    runner = CliRunner()
    assert runner.invoke(main, ["keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01"]).exit_code == 0
    res = runner.invoke(main, ["pack", "--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01",
                               "--out", str(tmp_path / "p.pdf"), "--key", str(tmp_path / "id" / "key.pem"),
                               "--cert", str(tmp_path / "id" / "cert.pem"), "--generated-at", "2026-10-02T00:00:00Z"])
    assert res.exit_code == 0, res.stderr
    text = pdf_text(tmp_path / "p.pdf")
    assert "Location (password masked)" in text and "password=***" in text
    assert not _leaks(text) and not _leaks(res.stderr + res.stdout)


def _app(monkeypatch, cfg: Path) -> AppTest:
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(cfg))
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    return at


def _everything_shown(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "code", "caption", "error", "warning", "success", "info")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def test_sources_page_and_its_config_view_mask_every_credential(scenario, monkeypatch):
    at = _app(monkeypatch, _secret_sqlite(scenario))
    at.switch_page("app_pages/sources.py").run()
    assert not at.exception, at.exception
    shown = _everything_shown(at)
    assert "password=***" in shown and "[audit]" in shown  # the location and the config file are both shown
    assert not _leaks(shown), shown


def test_web_app_connection_error_masks_every_credential(scenario, monkeypatch):
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///operations.db"',
                                           f'url = "postgresql://auditor:p@ss@127.0.0.1:1/none?{QUERY}"'))
    at = _app(monkeypatch, cfg)
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "operations" in errors and not _leaks(errors), errors


def test_config_loads_with_masked_display_for_the_bundled_sample():
    assert "***" not in load_config(None).audit.display_url  # nothing to hide: nothing hidden


def test_log_records_are_masked_whoever_writes_them(caplog):
    import logging

    from evidence_app.masking import mask_logs

    mask_logs()
    try:
        raise RuntimeError("could not connect to postgresql://auditor:hunter2@db/x?token=tok-77")
    except RuntimeError:
        logging.getLogger("sqlalchemy.pool").error("connecting %s failed", "mysql://ro:p@ss@h/db", exc_info=True)
    text = caplog.text
    assert "connecting mysql://ro:***@h/db failed" in text and "RuntimeError" in text
    assert not _leaks(text), text
