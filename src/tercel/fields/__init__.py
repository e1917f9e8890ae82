"""Layer 4 — field classes (evt.*, proc.*, fd.*, user.*, ...): declarations and value extraction."""
