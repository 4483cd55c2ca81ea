"""The aiohttp side: app assembly, middleware, handlers, forward-auth, pages, streams."""
