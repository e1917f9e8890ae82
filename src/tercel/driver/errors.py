"""The one exception of the driver layer: its message is a single line naming what is missing."""


class DriverError(Exception):
    """eBPF capture cannot start (or broke). `str(exc)` is one line fit for the CLI, which exits 1."""
