"""Output: plain data views, incident notes, secret masking and terminal-safe text."""
