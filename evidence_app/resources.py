"""Files the tool ships besides its code (the control catalogue, the sample scenario), found through
importlib.resources: inside an installed wheel they live in ``evidence_app/_bundled/``; in a source
checkout, at the top of the repository where they are maintained (``reports/``, ``sample_data/``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def bundled(*parts: str) -> Path:
    """The shipped file or folder ``parts`` (e.g. ``bundled("reports", "controls.toml")``)."""
    packaged = resources.files("evidence_app").joinpath("_bundled", *parts)
    if isinstance(packaged, Path) and packaged.exists():
        return packaged
    return _CHECKOUT.joinpath(*parts)


def sample_config() -> Path:
    """The bundled demo scenario's evidence.toml (the default config of every command)."""
    return bundled("sample_data", "evidence.toml")


def control_catalogue() -> Path:
    """The control catalogue: each control and the control check that decides it."""
    return bundled("reports", "controls.toml")
