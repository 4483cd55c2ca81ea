"""The ``camauth`` command: serve, users, keys."""
