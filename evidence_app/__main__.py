"""``python -m evidence_app`` runs the CLI."""

from evidence_app.cli import main

if __name__ == "__main__":
    main()
