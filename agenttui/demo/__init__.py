"""Demo agent and live traffic generator used to exercise agenttui end to end.

Nothing in this package imports textual or rich; it is part of the headless core.
"""
