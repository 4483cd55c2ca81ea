"""HTTP handlers and middlewares of the gateway."""
