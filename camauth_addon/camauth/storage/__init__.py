"""SQLite: the connection thread, migrations, and the SQL of each service."""
