"""Screens of the agenttui UI."""
