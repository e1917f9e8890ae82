"""Layer 5 — rule files, the condition language, compilation, the event-type index, output formatting."""
