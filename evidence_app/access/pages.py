"""Every page of the web app, registered once: its file, its title and icon, and the roles that may open it.

Why here: the access layer decides who opens what and the router draws the navigation from the same tuple, so a
page cannot be added in one place and forgotten (or silently made admin-only) in another. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence_app.config.settings import ROLES

__all__ = ["EVERY_ROLE", "REGISTRY", "Page", "page"]

EVERY_ROLE = frozenset(ROLES)
"""Shorthand for a page every signed-in role may open."""


@dataclass(frozen=True)
class Page:
    """One page of the web app; ``roles`` has no default, so a new page must say who may open it."""

    stem: str
    """Its file name under ``ui/app_pages/`` (without ``.py``); also its name in links and the access log."""
    title: str
    """The navigation's label."""
    icon: str
    """The navigation's icon (a Streamlit ``:material/…:`` name)."""
    roles: frozenset[str]
    """The roles that may open it when sign-in is on: a non-empty subset of the config's roles."""
    needs_sign_in: bool = False
    """True for a page that exists only with ``[access]`` (the access log): hidden when sign-in is off."""

    def __post_init__(self) -> None:
        unknown = set(self.roles) - EVERY_ROLE
        if not self.roles or unknown:
            raise ValueError(f"page {self.stem!r}: roles must be a non-empty subset of {', '.join(ROLES)}, "
                             f"got {sorted(self.roles)!r}")


REGISTRY: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/dashboard:", EVERY_ROLE),
    Page("coverage_gaps", "Coverage gaps", ":material/grid_on:", EVERY_ROLE),
    Page("replay", "Replay & backfill", ":material/replay:", EVERY_ROLE),
    Page("remediation", "Remediation & accuracy", ":material/build:", EVERY_ROLE),
    Page("evidence_pack", "Evidence pack", ":material/picture_as_pdf:", EVERY_ROLE),
    Page("sources", "Sources", ":material/database:", EVERY_ROLE),
    Page("access_log", "Access log", ":material/policy:", frozenset({"admin"}), needs_sign_in=True),
)
"""Every page, in the navigation's order; the first is the default page."""


def page(stem: str) -> Page:
    """The registered page with this file name; KeyError for an unknown one."""
    for p in REGISTRY:
        if p.stem == stem:
            return p
    raise KeyError(stem)
