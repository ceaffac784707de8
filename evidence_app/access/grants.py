"""Who may see what: a signed-in identity matched to its grant, what each role may open, and the bound a
grant puts on every view (grant ∩ link ∩ sidebar). Core-side: no Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from evidence_app.access.pages import REGISTRY, Page
from evidence_app.config.settings import ROLES, AccessConfig, Grant, mailbox
from evidence_app.reconcile.window import Period, Scope

#: Every page of the web app, by its file name under ui/app_pages/ (from the one registry, access/pages.py).
PAGES = tuple(p.stem for p in REGISTRY)
#: Roles that see the Sources page's connection details (locations, the config file).
CONNECTION_DETAIL_ROLES = frozenset({"engineer", "admin"})


@dataclass(frozen=True)
class Identity:
    """The signed-in user as the IdP describes them (ID token, completed from the userinfo endpoint)."""

    sub: str
    """The IdP's stable subject id."""
    email: str | None = None
    """The ``email`` claim as sent (None when absent or not text)."""
    email_verified: bool = False
    """True only when the IdP sent ``email_verified`` as the JSON value ``true``: ``"true"``, ``1``, or no claim
    at all (Entra ID sends none — whoever may edit their own email attribute would take its grant) is False."""
    groups: tuple[str, ...] = ()
    """The values of the groups claim (``[access] groups_claim``), as sent."""


def identity_from_claims(claims: Mapping[str, Any], groups_claim: str = "groups") -> Identity | None:
    """An Identity from the sign-in's claims; None without a usable ``sub``."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return None
    email = claims.get("email")
    return Identity(sub=sub, email=email if isinstance(email, str) and email else None,
                    email_verified=claims.get("email_verified") is True,
                    groups=groups_of(claims.get(groups_claim)))


def groups_of(value: Any) -> tuple[str, ...]:
    """A groups claim's values: a JSON list of strings, or one space-separated string (as some IdPs send roles);
    anything else (numbers, objects, nested lists) names no group."""
    if isinstance(value, str):
        items: list = value.split()
    elif isinstance(value, list):
        items = [v for v in value if isinstance(v, str) and v]
    else:
        return ()
    return tuple(dict.fromkeys(items))


def matching_grants(access: AccessConfig, who: Identity) -> tuple[Grant, ...]:
    """Every grant naming this identity, in config order: its ``sub`` exactly, its email only when verified
    (ASCII letters compared without case, every other character exactly: no Unicode folding), a group exactly."""
    wanted = mailbox(who.email) if who.email is not None and who.email_verified else None
    return tuple(g for g in access.grants
                 if (g.sub is not None and g.sub == who.sub)
                 or (g.email is not None and wanted is not None and mailbox(g.email) == wanted)
                 or (g.group is not None and g.group in who.groups))


def combined(grants: tuple[Grant, ...]) -> Grant | None:
    """What several grants give together: the widest role, and the union of their tenants and of their days
    (a side any grant leaves unlimited is unlimited). None when the grants' days do not form one unbroken run:
    a single bound cannot hold days with a gap, and spanning the gap would grant days no grant gives."""
    if not grants:
        return None
    if len(grants) == 1:
        return grants[0]
    role = max((g.role for g in grants), key=ROLES.index)
    tenants = () if any(not g.tenants for g in grants) else tuple(dict.fromkeys(t for g in grants for t in g.tenants))
    period = None if any(g.period is None for g in grants) else _one_run([g.period for g in grants if g.period])
    if period is False:
        return None
    return Grant(role=role, tenants=tenants, period=period, index=grants[0].index)


def _one_run(periods: list[tuple[date, date]]) -> tuple[date, date] | bool:
    """The union of inclusive day ranges as one range, or False when it has a gap."""
    ordered = sorted(periods)
    lo, hi = ordered[0]
    for start, end in ordered[1:]:
        if start > hi + timedelta(days=1):
            return False
        hi = max(hi, end)
    return lo, hi


def find_grant(access: AccessConfig, who: Identity) -> Grant | None:
    """The access this identity has: its matching grants combined (see :func:`combined`)."""
    return combined(matching_grants(access, who))


def may_open(role: str, page: str) -> bool:
    """Whether a role may open a page (by its file name)."""
    return any(p.stem == page and role in p.roles for p in REGISTRY)


def open_pages(role: str | None, signed_in: bool) -> tuple[Page, ...]:
    """The pages to offer, in order: by role when sign-in is on; otherwise every page that exists without it."""
    if signed_in:
        return tuple(p for p in REGISTRY if role is not None and may_open(role, p.stem))
    return tuple(p for p in REGISTRY if not p.needs_sign_in)


def may_see_connection_details(role: str | None) -> bool:
    """Source locations and the config file: engineers and admins, or everyone when sign-in is off (role None)."""
    return role is None or role in CONNECTION_DETAIL_ROLES


@dataclass(frozen=True)
class Bound:
    """The most a user may see: a grant's tenants and days (empty/None: no limit on that side)."""

    tenants: tuple[str, ...] = ()
    period: tuple[date, date] | None = None

    @classmethod
    def of(cls, grant: Grant | None) -> "Bound":
        """The bound of a grant; no grant (sign-in off) means no bound."""
        return cls() if grant is None else cls(tenants=grant.tenants, period=grant.period)

    @property
    def limited(self) -> bool:
        return bool(self.tenants) or self.period is not None

    def as_json(self) -> dict:
        """For the access log and the pack manifest: only the sides that are limited."""
        out: dict = {}
        if self.tenants:
            out["tenants"] = list(self.tenants)
        if self.period is not None:
            out["period"] = [str(self.period[0]), str(self.period[1])]
        return out

    def label(self) -> str:
        parts = []
        if self.tenants:
            parts.append(f"tenants {', '.join(self.tenants)}")
        if self.period is not None:
            parts.append(f"days {self.period[0]} – {self.period[1]}")
        return " and ".join(parts) or "no limit"


@dataclass(frozen=True)
class Narrowed:
    """A requested view after the bound: what is shown, and what was asked for but refused."""

    period: Period
    scope: Scope
    refused: tuple[str, ...] = ()
    """Requested values outside the bound, in words (e.g. ``tenant ist-kadikoy``); never shown."""


def narrow(bound: Bound, period: Period, scope: Scope) -> Narrowed:
    """Intersect a requested period and scope with the bound; what lies outside is dropped and named."""
    refused: list[str] = []
    tenants = scope.tenant
    if bound.tenants:
        kept = tuple(t for t in tenants if t in bound.tenants)
        refused += [f"tenant {t}" for t in tenants if t not in bound.tenants]
        tenants = kept or bound.tenants
    shown, why = _clamp(bound, period)
    refused += why
    return Narrowed(shown, Scope(tenant=tenants, operator=scope.operator, route=scope.route, action=scope.action),
                    tuple(refused))


def _clamp(bound: Bound, period: Period) -> tuple[Period, list[str]]:
    """The requested days inside the bound's; a request wholly outside falls back to the bound's days."""
    if bound.period is None:
        return period, []
    lo, hi = bound.period
    start = max(period.start, lo) if period.start else lo
    end = min(period.end, hi) if period.end else hi
    refused = []
    if (period.start and period.start < lo) or (period.end and period.end > hi):
        refused.append(f"days {period.label()} (beyond {lo} – {hi})")
    if start > end:
        return Period(lo, hi), refused
    return Period(start, end), refused
