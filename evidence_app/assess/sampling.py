"""Auditor's re-performance sample: size from confidence and tolerable deviation, seeded draw."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class SamplePlan:
    confidence: float
    tolerable_deviation: float
    population_size: int
    population_sha256: str
    """SHA-256 of the sorted operation ids joined by newlines."""
    seed: int
    size: int


def sample_size(confidence: float, tolerable_deviation: float) -> int:
    """Attribute sample size with zero expected deviations: ceil(ln(1 − c) / ln(1 − t))."""
    return math.ceil(math.log(1 - confidence) / math.log(1 - tolerable_deviation))


def population_hash(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def plan_sample(ids: Sequence[str], confidence: float, tolerable: float, salt: str, seed: int | None = None) -> SamplePlan:
    """The seed, unless given, is derived from the population hash and ``salt`` (e.g. the period)."""
    digest = population_hash(ids)
    if seed is None:
        seed = int(hashlib.sha256(f"{digest}:{salt}".encode()).hexdigest()[:12], 16)
    return SamplePlan(confidence, tolerable, len(ids), digest, seed, min(sample_size(confidence, tolerable), len(ids)))


def draw(ids: Sequence[str], plan: SamplePlan) -> list[str]:
    """Anyone can redraw it: random.Random(seed).sample(sorted(ids), size), in draw order."""
    return random.Random(plan.seed).sample(sorted(ids), plan.size)
