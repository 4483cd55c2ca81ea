"""Home Assistant add-on hook-ups: Supervisor discovery."""
