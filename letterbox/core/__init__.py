"""The domain core: the letter, the process, calendar and deadlines, codes, configuration.

Plain Python: imports nothing from the other layers (see ARCHITECTURE.md)."""
