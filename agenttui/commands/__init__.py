"""Commands: the headless sub-commands, one module each."""
