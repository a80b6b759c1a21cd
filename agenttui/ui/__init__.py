"""The Textual user interface of agenttui (started by ``agenttui PATH...``)."""
