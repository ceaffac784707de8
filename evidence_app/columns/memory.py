"""Giving freed memory back between phases, so the next phase grows from what is live, not from the last peak."""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import pyarrow as pa


def release_freed() -> None:
    """Return freed heap pages to the system. Loading and matching free large, short-lived buffers (row tuples,
    unsorted copies, join arrays); glibc keeps them mapped, and the next phase then stacks its own on top.
    A lower peak for little time per call (measured in bench/RESULTS.md). A no-op off glibc."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():  # noqa: ANN202 - a C function or None
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
