"""Ingest: find log sources, detect their shape, read lines by offset into records."""
