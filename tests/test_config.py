"""evidence.toml validation: every mistake is one line naming the key or file, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.errors import ConfigError
from evidence_app.resources import sample_config


def _cli_error(cfg: Path) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    return res.exit_code, res.stderr


def _edit(scenario, old: str, new: str) -> Path:
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace(old, new))
    return cfg


def test_relative_paths_resolve_against_the_config_folder(scenario, tmp_path, monkeypatch):
    cfg = scenario.write()
    monkeypatch.chdir(tmp_path)
    config = load_config(cfg)
    assert Path(config.audit.url.database) == (cfg.parent / "audit.db").resolve()
    assert config.log_paths[0].startswith(str(cfg.parent))


def test_no_config_means_the_bundled_sample():
    assert load_config(None).path == sample_config().resolve()


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("[worker_logs]", "colour = 1\n[worker_logs]", "colour"),
        ('table = "staff_audit_logs"', 'table = "staff_audit_logs"\ntabel = "x"', "audit.tabel"),
        ('url = "sqlite:///audit.db"', 'url = "sqlite:///nowhere.db"', "audit.url"),
        ('url = "sqlite:///audit.db"', 'url = "not a url"', "audit.url"),
        ('url = "sqlite:///audit.db"', 'url = "oracle://u:secret@h/db"', "audit.url"),
        ('table = "operations"', 'table = "operations"\n[operations.columns]\nwhen = "occurred_at"',
         "operations.columns.when"),
        ("[worker_logs]", "[matching]\ntolerance_seconds = -5\n[worker_logs]", "matching.tolerance_seconds"),
        ("[worker_logs]", '[matching.actions]\na = "cache_purge"\nb = "cache_purge"\n[worker_logs]',
         "matching.actions.b"),
        ('url = "sqlite:///audit.db"', 'url = "sqlite:///audit.db"\nd1_dump = "x.sql"', "[audit]"),
    ],
)
def test_config_mistakes_exit_2_naming_the_key(scenario, old, new, named):
    code, err = _cli_error(_edit(scenario, old, new))
    assert code == 2
    assert named in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_table_exits_2_naming_it(scenario):
    code, err = _cli_error(_edit(scenario, 'table = "staff_audit_logs"', 'table = "audit_trail"'))
    assert code == 2 and "audit.table" in err and "audit_trail" in err


def test_missing_required_column_exits_2_naming_it(scenario):
    cfg = _edit(scenario, 'table = "staff_audit_logs"', 'table = "staff_audit_logs"\n[audit.columns]\ncreated_at = "ts"')
    code, err = _cli_error(cfg)
    assert code == 2 and "audit.columns.created_at" in err and "'ts'" in err


def test_missing_optional_column_is_fine(scenario, tmp_path):
    cfg = _edit(scenario, 'table = "staff_audit_logs"',
                'table = "staff_audit_logs"\n[audit.columns]\ninserted_at = "written_at"')
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--format", "json"])
    assert res.exit_code == 0, res.stderr


def test_invalid_toml_names_the_file(tmp_path):
    cfg = tmp_path / "evidence.toml"
    cfg.write_text("[audit\nurl=")
    code, err = _cli_error(cfg)
    assert code == 2 and str(cfg) in err


def test_missing_config_file_names_it(tmp_path):
    code, err = _cli_error(tmp_path / "nope.toml")
    assert code == 2 and "nope.toml" in err


def test_password_in_a_bad_url_is_masked(scenario):
    code, err = _cli_error(_edit(scenario, 'url = "sqlite:///audit.db"', 'url = "oracle://u:hunter2@h/db"'))
    assert code == 2 and "hunter2" not in err


def test_display_url_masks_the_password(tmp_path):
    from evidence_app.config.settings import parse_config

    raw = {"audit": {"url": "postgresql://auditor:s3cret@db.example/audit"},
           "operations": {"url": "mysql://ops:pa55@db.example/ops"}}
    config = parse_config(raw, tmp_path / "evidence.toml")
    assert "s3cret" not in config.audit.display_url and "***" in config.audit.display_url
    assert "pa55" not in config.operations.display_url


def test_config_error_is_our_exception(tmp_path):
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(("option", "value"), [("--start", "2026-13-01"), ("--by", "weekday")])
def test_bad_cli_values_exit_2(scenario, option, value):
    res = scenario.cli("coverage", option, value)
    assert res.code == 2 and option in res.stderr


@pytest.mark.parametrize(("setting", "named"), [
    ("[matching]\ntolerance_seconds = 1e17", "matching.tolerance_seconds"),
    ("[matching]\ntolerance_seconds = 100000000000000000", "matching.tolerance_seconds"),
    ("[matching]\ntolerance_seconds = 604801", "matching.tolerance_seconds"),
    ("[matching]\ntolerance_seconds = nan", "matching.tolerance_seconds"),
    ("[matching]\nmax_replay_attempts = 9223372036854775807", "matching.max_replay_attempts"),
    ("[matching]\nmax_replay_attempts = 0", "matching.max_replay_attempts"),
    ("[controls]\nsample_confidence = 1.0", "controls.sample_confidence"),
    ("[controls]\nsample_tolerable_deviation = 0", "controls.sample_tolerable_deviation"),
    ("[controls]\ncoverage_met_at = 1e308", "controls.coverage_met_at"),
    ("[controls]\ncoverage_met_at = nan", "controls.coverage_met_at"),
    ("[controls]\npending_age_met_hours = inf", "controls.pending_age_met_hours"),
    ("[controls]\nclock_p95_met_seconds = -1", "controls.clock_p95_met_seconds"),
    ("[controls]\ncredential_actions = [1, 2]", "controls.credential_actions"),
    ("[controls]\ncoverage_met_at = true", "controls.coverage_met_at"),
])
def test_every_numeric_setting_is_bounded_exit_2_naming_the_key(scenario, setting, named):
    code, err = _cli_error(_edit(scenario, "[worker_logs]", setting + "\n[worker_logs]"))
    assert code == 2 and named in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("setting", "named"), [
    ("optional = 1", "worker_logs.optional"),
    ("max_line_bytes = 10", "worker_logs.max_line_bytes"),
    ("max_file_bytes = 1e30", "worker_logs.max_file_bytes"),
    ("max_file_bytes = 99999999999999999999", "worker_logs.max_file_bytes"),
    ("sleep = 3", "worker_logs.sleep"),
])
def test_worker_logs_settings_are_validated(scenario, setting, named):
    paths = 'paths = ["logpush/**/*.log.gz"]'
    code, err = _cli_error(_edit(scenario, paths, f"{paths}\n{setting}"))
    assert code == 2 and named in err, err


def test_the_tolerance_bound_itself_is_accepted(scenario):
    cfg = _edit(scenario, "[worker_logs]", "[matching]\ntolerance_seconds = 604800\n[worker_logs]")
    assert load_config(cfg).matching.tolerance_seconds == 604800


def test_an_integer_too_long_to_read_names_the_file(tmp_path):
    cfg = tmp_path / "evidence.toml"
    cfg.write_text("[matching]\ntolerance_seconds = " + "9" * 5000 + "\n")
    code, err = _cli_error(cfg)
    assert code == 2 and str(cfg) in err and "Traceback" not in err


def test_errors_keep_their_cause(tmp_path):
    """One clear line for the user, the underlying exception kept for whoever debugs (``raise … from exc``)."""
    import tomllib

    bad = tmp_path / "evidence.toml"
    bad.write_text("[audit\n")
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    assert isinstance(caught.value.__cause__, tomllib.TOMLDecodeError)
