"""Replay: failure captures, replay targets, verdicts, history and export to a test."""
