"""The ``naslab`` command: parses, looks up registries, calls the runner; no logic of its own."""
