"""Shared fixtures: scenarios built in code, and the database servers the CI machine runs."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from scenario import Scenario  # noqa: E402

# The web app keeps snapshots of what it read in $XDG_CACHE_HOME/evidence-app by default: never the user's own
# cache during tests (tests that look at snapshots set [cache] folder themselves).
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="evidence-app-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The one limit for every wait on a condition (a server coming up, a page or app run finishing, a browser
# element showing), in seconds: generous, because the machine running the suite may be busy with other work.
WAIT_S = float(os.environ.get("EVIDENCE_TEST_WAIT_S", "180"))

# Hypothesis: in CI the same examples every run (derandomised, no example database), a failure printed with the
# blob that reproduces it; everywhere no per-example deadline, because a busy machine makes any deadline flaky.
# A test's own @settings still sets its max_examples; EVIDENCE_HYPOTHESIS_PROFILE picks a profile by name.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("EVIDENCE_HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))
PG_ADMIN_URL = os.environ.get("EVIDENCE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
APP = str(Path(__file__).resolve().parent.parent / "evidence_app" / "ui" / "app.py")
"""The web app's entry script, for Streamlit's AppTest."""
MARIADB_ADMIN_URL = os.environ.get("EVIDENCE_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


@pytest.fixture
def app(monkeypatch):
    """The web app on the bundled sample (AppTest), run once without an exception."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("EVIDENCE_APP_CONFIG", raising=False)
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def signing_identity(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed signing key and certificate (``keygen``, valid from 2026-01-01): (key path, cert path)."""
    from click.testing import CliRunner

    from evidence_app.cli import main

    folder = tmp_path_factory.mktemp("id")
    res = CliRunner().invoke(main, ["keygen", str(folder), "--valid-from", "2026-01-01"])
    assert res.exit_code == 0, res.output
    return folder / "key.pem", folder / "cert.pem"


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path / "scenario")


def server_or_skip(url: str, name: str):
    """An admin engine for a test server; in CI an unreachable server fails the test."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "server not there"
        engine.dispose()
        reason = f"{name} not reachable at {url}: {str(exc).splitlines()[0]}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return engine


@pytest.fixture
def pg_admin():
    engine = server_or_skip(PG_ADMIN_URL, "PostgreSQL")
    yield engine
    engine.dispose()


@pytest.fixture
def mariadb_admin():
    engine = server_or_skip(MARIADB_ADMIN_URL, "MariaDB")
    yield engine
    engine.dispose()


# The development lane, `pytest -m "not slow"`, leaves these out (a module, or module::test for one test and all
# its parameters); the full suite, the README's command 2 and CI's, runs them. Measured with --durations.
SLOW = (
    # a real server in headless Chromium
    "test_browser.py", "test_access_browser.py", "test_page_views_browser.py", "test_see_browser.py",
    # a certified OpenID provider (panva's oidc-provider, Node) and a server per client registration, in Chromium
    "test_oidc_provider_browser.py",
    # the wheel built and installed into a fresh virtual environment
    "test_package.py",
    # signed packs built (and read back in other tools) test after test
    "test_pack.py", "test_pack_embedding.py", "test_pack_scale.py", "test_pack_text.py", "test_verify.py",
    # PAdES B-LTA against a test PKI (certomancer: TSA, OCSP, CRLs) served on 127.0.0.1
    "test_lta.py",
    "test_pack_honest.py",
    "test_extraction.py",
    "test_deflate.py::test_a_pack_of_extracts_cut_into_pieces_verifies_and_reads_in_other_tools",
    "test_periods.py::test_pack_of_a_period_without_operations_is_built",
    "test_access_scope.py::test_a_pack_built_under_a_limited_grant_says_so_on_its_cover_and_in_its_manifest",
    "test_secrets.py::test_pack_methodology_masks_secret_query_parameters",
    # every control rule judged end to end on its own scenario (the whole pipeline per test)
    "test_controls.py",
    # the web app run in Streamlit's AppTest, page after page, and the CLI over the bundled 90-day sample
    "test_ui.py", "test_access_ui.py", "test_ui_text.py", "test_snapshot_ui.py", "test_ui_scale.py", "test_see_ui.py",
    "test_remediation_views.py", "test_remediation_page_scale.py", "test_sample_scenario.py",
    # the kernel against the slow reference on 150 random scenarios, and the other heavy property tests
    "test_kernel_reference.py", "test_compact.py", "test_canonical_targets.py", "test_render_csv.py",
    "test_fuzz.py", "test_bounded_views.py", "test_order.py",
    "test_replay_routes_scale.py::test_shown_lines_add_up_to_every_route",
    "test_bad_values.py::test_a_route_is_blank_exactly_when_stripping_leaves_nothing",
    "test_access_config.py::test_any_access_section_is_accepted_or_refused_with_a_config_error",
    "test_remediation.py::test_flag_parsing_never_raises_and_reads_only_the_flag_forms",
    "test_access_log.py::test_verify_of_a_corrupted_file_reports_never_crashes",
    "test_accuracy.py::test_the_vectorised_blank_is_the_rules_blank",
    "test_check.py::test_check_section_parsing_never_raises_anything_but_a_config_error",
    "test_check.py::test_webhook_url_parsing_never_raises_anything_but_a_usage_error",
    # scale, and roles on the database servers
    "test_logpush.py::test_reader_memory_does_not_grow_with_file_size",
    "test_matching_rules.py::test_the_key_join_cut_into_time_slices_finds_exactly_the_pairs_of_the_whole_join",
    "test_privileges.py",
    # native (ADBC) reads against the Python path on random SQLite tables, batch by batch
    "test_native_reads.py::test_any_mix_of_values_reads_the_same_natively_as_through_python",
    "test_native_reads.py::test_columns_of_one_storage_class_with_nulls_read_the_same",
    # a real S3 API server (moto) per module, signed packs per test, pages in AppTest and Chromium
    "test_object_storage.py", "test_signer_validity.py",
    "test_hostile_values.py::test_in_chromium_a_hostile_link_fetches_nothing_and_links_nowhere",
    "test_hostile_values.py::test_every_page_shows_hostile_names_and_link_values_as_typed",
    "test_hostile_values.py::test_hostile_names_chosen_in_the_sidebar_and_drill_down_show_as_typed",
    "test_log_completeness.py::test_the_pack_states_log_completeness_with_the_logs_commands_figures",
    "test_log_completeness.py::test_the_sources_page_shows_the_logs_commands_figures",
    "test_logpush.py::test_what_each_invocation_costs_is_a_small_record",
    "test_access_scope.py::test_two_different_mailboxes_never_share_a_grant",
    "test_check.py::test_a_dripping_webhook_cannot_hold_the_check_past_its_deadline",
    "test_d1dump.py::test_a_view_over_a_cross_join_stops_at_the_read_time_limit",
    "test_numbers.py::test_no_number_in_any_key_escapes_as_anything_but_a_config_error",
    # partitions (issue 22): every count against the single pass and the reference on random scenarios, and a pack
    "test_partitions.py::test_every_partition_count_gives_the_single_pass_result",
    "test_partitions.py::test_partitions_agree_with_the_record_by_record_reference",
    "test_partitions.py::test_the_pack_states_the_partitioning_and_shows_the_single_pass_figures",
    "test_aggregates.py::test_partitioned_figures_are_the_single_passs",
    "test_aggregates.py::test_partitioned_coverage_is_the_single_passs_bytes",
    "test_aggregates.py::test_partitioned_check_and_remediation_are_the_single_passs_bytes",
    # a real local Dask cluster (scheduler and worker processes) per session, and small ones per test
    "test_dask_cluster.py",
    # lists of stores (one per tenant) against the union store: many seeds and every command; on a real cluster
    "test_store_lists.py::test_lists_of_stores_give_the_union_stores_numbers_partitioned_or_not",
    "test_store_lists.py::test_every_command_reads_the_same_from_the_lists_as_from_the_union",
    "test_store_lists_cluster.py",
    "test_store_lists.py::test_a_pack_of_a_hundred_per_tenant_stores_lists_each_and_shows_the_union_stores_figures",
    # a fresh Python process per test
    "test_cli_contract.py::test_python_dash_m_runs_the_cli",
    # OSCAL results of signed packs (built per module), of the web app's pack, and rerun for byte equality
    "test_oscal_pack.py", "test_oscal_ui.py", "test_oscal.py::test_same_inputs_give_the_same_bytes",
    "test_oscal.py::test_another_period_or_scope_gives_other_uuids",
    "test_oscal.py::test_any_scenario_gives_valid_documents_with_the_coverage_commands_numbers",
    "test_access_config.py::test_serve_without_access_refuses_a_non_loopback_address",
)


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001 - pytest's hook
    slow = set(SLOW)
    for item in items:
        module = item.path.name
        if module in slow or f"{module}::{getattr(item, 'originalname', item.name)}" in slow:
            item.add_marker(pytest.mark.slow)
