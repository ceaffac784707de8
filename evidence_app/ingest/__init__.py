"""Ingest: read-only sources and Worker logs → canonical, typed, UTC frames (and a count of what could not be read)."""
