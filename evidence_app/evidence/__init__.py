"""Signed PDF evidence packs: extracts + manifest, PDF, signature, verification."""
