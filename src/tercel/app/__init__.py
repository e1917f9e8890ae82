"""Layer 7 — configuration, command line, daemon lifecycle, reload, web server."""
