"""Layer 1 — the BPF program, its loader and the ring-buffer reader (emits PPME-encoded events)."""
