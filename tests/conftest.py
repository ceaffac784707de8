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
MARIADB_ADMIN_URL = os.environ.get("EVIDENCE_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


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
