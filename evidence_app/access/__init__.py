"""Access control and the web app's own audit trail: the page registry (pages.py), grants and scope (grants.py),
the hash-chained log (log.py).

Core-side: nothing here imports Streamlit; the UI calls these and the CLI verifies and exports the log.
"""

from evidence_app.access.grants import (
    PAGES,
    Bound,
    Identity,
    Narrowed,
    combined,
    find_grant,
    groups_of,
    identity_from_claims,
    matching_grants,
    may_open,
    may_see_connection_details,
    narrow,
    open_pages,
)
from evidence_app.access.log import ACTIONS, AccessLog, Entry, Verdict

__all__ = ["ACTIONS", "PAGES", "AccessLog", "Bound", "Entry", "Identity", "Narrowed", "Verdict", "combined",
           "find_grant", "groups_of", "identity_from_claims", "matching_grants", "may_open", "may_see_connection_details", "narrow", "open_pages"]
