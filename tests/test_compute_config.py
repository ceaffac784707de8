"""``[compute]`` and ``--partitions``/``--scheduler``: a bounded whole number and a checked Dask address, or one line
naming the key or option (exit 2), a password in a refused address masked; every command that reads the sources
takes both, and the command line wins over the config."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.cli import main
from evidence_app.config.compute import (
    COMPUTE_ENV,
    MAX_PARTITIONS,
    ComputeConfig,
    checked_scheduler,
    compute_from_env,
    compute_to_env,
    overridden,
    parse_compute,
)
from evidence_app.config.settings import load_config
from evidence_app.errors import ConfigError, UsageError

SOURCE_COMMANDS = ["serve", "coverage", "exceptions", "logs", "replay-status", "remediation", "check", "pack"]
"""Every command that reads the stores (``verify``, ``keygen``, ``access-log`` read none)."""


def _with(scenario, section: str):
    scenario.op("o1").row("a1")
    cfg = scenario.write()
    cfg.write_text(cfg.read_text() + section)
    return cfg


def test_no_compute_section_means_one_partition_in_process(scenario):
    assert load_config(_with(scenario, "")).compute == ComputeConfig(1, None, 30)
    assert not ComputeConfig().distributed


def test_a_compute_section_is_read(scenario):
    cfg = _with(scenario, '[compute]\npartitions = 16\nscheduler = "tcp://10.0.0.5:8786"\ntimeout_seconds = 5\n')
    assert load_config(cfg).compute == ComputeConfig(16, "tcp://10.0.0.5:8786", 5)
    assert load_config(cfg).compute.distributed


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://scheduler.internal:1", "tcp://[::1]:65535",
                                     " tcp://dask-0:8786 "])
def test_scheduler_addresses_of_every_host_form_are_accepted(address):
    assert checked_scheduler(address, "compute.scheduler") == address.strip()


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_PARTITIONS + 1), "2.0", "true", '"4"', "nan", "[2]",
                                   "1" + "0" * 40])
def test_partitions_outside_1_to_the_bound_are_refused_naming_the_key(scenario, value):
    with pytest.raises(ConfigError, match=r"^compute\.partitions: must be a whole number from 1 to 4,096"):
        load_config(_with(scenario, f"[compute]\npartitions = {value}\n"))
    if value != str(MAX_PARTITIONS + 1):
        with pytest.raises(ConfigError, match=r"^compute\.timeout_seconds: must be a whole number from 1 to 3,600"):
            load_config(_with(scenario, f"[compute]\ntimeout_seconds = {value}\n"))


@pytest.mark.parametrize("value", ['""', '"127.0.0.1:8786"', '"tcp://h"', '"tcp://h:0"', '"tcp://h:70000"',
                                   '"tcp://h:1/path"', '"tcp://h:1?x=1"', '"tls://h:1"', '"http://h:1"', "5",
                                   '"tcp://-bad-:1"', '"tcp://h :1"', '"tcp://h:1 x"'])
def test_a_scheduler_that_is_not_tcp_host_port_is_refused_naming_the_key(scenario, value):
    with pytest.raises(ConfigError, match=r"^compute\.scheduler: must be a Dask scheduler address tcp://HOST:PORT"):
        load_config(_with(scenario, f"[compute]\nscheduler = {value}\n"))


def test_a_password_in_a_refused_scheduler_is_never_shown(scenario):
    cfg = _with(scenario, '[compute]\nscheduler = "tcp://dask:s3cr3t-pw@10.0.0.5:8786"\n')
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "s3cr3t-pw" not in str(err.value) and "compute.scheduler" in str(err.value)
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    assert res.exit_code == 2 and "s3cr3t-pw" not in res.stderr + res.stdout


def test_an_unknown_compute_key_is_refused_naming_it(scenario):
    with pytest.raises(ConfigError, match=r"^compute\.workers: unknown key \(allowed: partitions, scheduler, "):
        load_config(_with(scenario, "[compute]\nworkers = 4\n"))


@pytest.mark.parametrize("command", SOURCE_COMMANDS)
def test_every_command_that_reads_the_sources_takes_partitions_and_scheduler(command):
    res = CliRunner().invoke(main, [command, "--help"])
    assert res.exit_code == 0
    assert "--partitions N" in res.stdout and "--scheduler tcp://HOST:PORT" in res.stdout


@pytest.mark.parametrize("option, value", [("--partitions", "0"), ("--partitions", str(MAX_PARTITIONS + 1)),
                                           ("--partitions", "two"), ("--scheduler", "localhost:8786"),
                                           ("--scheduler", "tcp://u:s3cr3t-pw@h:1")])
def test_a_bad_option_exits_2_naming_it_and_never_shows_a_password(scenario, option, value):
    res = scenario.cli("coverage", option, value)
    assert res.code == 2 and option in res.stderr and "Traceback" not in res.stderr
    assert "s3cr3t-pw" not in res.stderr


def test_the_command_line_overrides_the_config_and_leaves_the_rest(scenario):
    cfg = load_config(_with(scenario, '[compute]\npartitions = 3\nscheduler = "tcp://h:1"\n'))
    assert overridden(cfg, 8, None).compute == ComputeConfig(8, "tcp://h:1")
    assert overridden(cfg, None, "tcp://other:2").compute == ComputeConfig(3, "tcp://other:2")
    assert overridden(cfg, None, None) is cfg
    assert overridden(cfg, 8, None).audit == cfg.audit


def test_a_command_sees_its_options_in_place_of_the_config(scenario):
    from evidence_app import cli

    cfg = _with(scenario, "[compute]\npartitions = 3\n")
    seen = []

    @click.command()
    @cli.compute_options
    def probe() -> None:
        seen.append(cli.load(str(cfg)).compute)

    assert CliRunner().invoke(probe, ["--partitions", "5", "--scheduler", "tcp://h:9"]).exit_code == 0
    assert CliRunner().invoke(probe, []).exit_code == 0
    assert seen == [ComputeConfig(5, "tcp://h:9"), ComputeConfig(3, None)]


def test_serve_hands_its_compute_settings_to_the_web_app_checked_again():
    compute = ComputeConfig(7, "tcp://10.1.2.3:8786", 12)
    assert compute_from_env(compute_to_env(compute)) == compute
    assert compute_from_env(compute_to_env(ComputeConfig())) == ComputeConfig()
    for bad in ("", "[]", "{", json.dumps({"partitions": 0}), json.dumps({"scheduler": "h:1"})):
        with pytest.raises(ConfigError):
            compute_from_env(bad)


# ------------------------------------------------------------------ fuzz: no exception escapes

toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**30, max_value=10**4000) | st.floats()
    | st.text(max_size=40) | st.sampled_from(["tcp://127.0.0.1:8786", "tcp://u:pw@h:1", "tcp://[::1]:0",
                                              "tcp://h:99999", "tcp://h:08786", "tcp://" + "a" * 300 + ":1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(section=st.dictionaries(st.sampled_from(["partitions", "scheduler", "timeout_seconds"]) | st.text(max_size=8),
                               toml_values,
                               max_size=3))
def test_any_compute_section_is_a_compute_config_or_a_config_error(section):
    try:
        compute = parse_compute({k: v for k, v in section.items() if v is not None})
    except ConfigError as exc:
        assert str(exc).startswith("compute.") and "\n" not in str(exc)
        return
    assert isinstance(compute.partitions, int) and 1 <= compute.partitions <= MAX_PARTITIONS
    assert compute.scheduler is None or compute.scheduler.startswith("tcp://")
    assert isinstance(compute.timeout_seconds, int) and 1 <= compute.timeout_seconds <= 3600


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60) | st.builds(lambda h, p: f"tcp://{h}:{p}", st.text(max_size=20),
                                             st.integers(-5, 70000)))
def test_any_scheduler_text_is_an_address_or_a_usage_error(text):
    try:
        address = checked_scheduler(text, "--scheduler", UsageError)
    except UsageError as exc:
        assert str(exc).startswith("--scheduler: ") and "\n" not in str(exc)
        return
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    assert host and "@" not in host and "/" not in host and 1 <= int(port) <= 65535


def test_serve_passes_its_options_to_the_web_apps_process_which_applies_them(scenario, monkeypatch):
    from evidence_app.ui import data, serving

    cfg = _with(scenario, "[compute]\npartitions = 3\n")
    launch = serving.prepare(overridden(load_config(cfg), 6, "tcp://10.9.8.7:8786"), "127.0.0.1", 8501)
    assert compute_from_env(launch.env[COMPUTE_ENV]) == ComputeConfig(6, "tcp://10.9.8.7:8786", 30)
    monkeypatch.setenv(COMPUTE_ENV, launch.env[COMPUTE_ENV])
    data.config.clear()
    try:
        assert data.config(str(cfg)).compute == ComputeConfig(6, "tcp://10.9.8.7:8786", 30)
    finally:
        data.config.clear()
