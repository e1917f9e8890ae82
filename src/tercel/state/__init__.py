"""Layer 3 — the libsinsp equivalent: event table and decoding, thread/fd/user tables, container metadata."""
