"""Doctor: the production checklist run as checks."""
