"""What ``serve`` runs: Streamlit's command line, after importing the libraries and core modules the pages use.

Why: a page's first run imports Plotly, pandas, the core and the pack builder (seconds); done here, the server
pays for them once as it starts — before it answers its health check — and not the first visitor after every
(re)start. Likewise the opening period and the sources' fingerprint (:func:`evidence_app.ui.views.at_start`),
which the first visitor uses while they are younger than the data's cache life. Modules that declare Streamlit caches (``evidence_app.ui.*``) are left to the app's first run, inside
the runtime."""

from __future__ import annotations

import importlib
import os
import sys

CONFIG_ENV = "EVIDENCE_APP_CONFIG"
WARM = ("pandas", "pyarrow", "numpy", "plotly.graph_objects", "plotly.io", "sqlalchemy",
        "evidence_app.reconcile", "evidence_app.reconcile.coverage", "evidence_app.reconcile.bounded",
        "evidence_app.assess.summary", "evidence_app.assess.controls", "evidence_app.assess.log_health",
        "evidence_app.ingest.dataset", "evidence_app.persistence.snapshot", "evidence_app.access",
        "evidence_app.evidence.build", "evidence_app.evidence.verify", "evidence_app.evidence.trust")


def main() -> None:
    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional backend's module: the page that needs it reports it
            pass
    from evidence_app.ui.views import at_start

    at_start(os.environ.get(CONFIG_ENV) or None)  # the opening period and the sources' print, for the first visitor
    _sign_in_routes(os.environ.get(CONFIG_ENV) or None)
    from streamlit.web.cli import main as streamlit

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit(prog_name="streamlit")


def _sign_in_routes(path: str | None) -> None:
    """With ``[access]``: Streamlit's sign-in routes completed for real providers (see evidence_app.ui.oidc)."""
    from evidence_app.config.settings import load_config

    access = load_config(path).access
    if access is not None:
        from evidence_app.ui.oidc import install

        install(access)


if __name__ == "__main__":
    main()
