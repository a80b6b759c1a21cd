"""Model: traces, events, error signatures, failure classes, triage and the query language."""
