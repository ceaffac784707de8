"""evidence-app: proves whether a SaaS's audit trail is complete."""

__version__ = "0.1.0"
