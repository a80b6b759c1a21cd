"""Widgets of the agenttui UI."""
