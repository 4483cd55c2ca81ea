"""The domain: services and rules, free of HTTP and of SQL."""
