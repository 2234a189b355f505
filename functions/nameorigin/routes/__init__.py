"""The HTTP API both doors share: Powertools routers (legacy, predict, metadata, v2), one error
shape, and ``create_resolver`` that assembles them for an entry point."""
