"""Layer 2 — event sources: live eBPF, .scap reader/writer. Yields raw PPME events and initial-state records."""
