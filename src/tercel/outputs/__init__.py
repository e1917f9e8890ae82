"""Layer 6 — alert channels behind a bounded queue; a slow or broken channel never stalls events."""
