"""The condition language's errors: every failure a condition can cause is one of these."""

from __future__ import annotations


class ConditionError(Exception):
    """A condition that cannot be parsed, expanded, type-checked or compiled.

    ``offset`` is the 0-based character offset in the condition text where the problem was
    found (-1 when unknown, e.g. after macro expansion moved nodes around).
    """

    def __init__(self, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return self.message


class UnknownFieldError(ConditionError):
    """A field name that no field class declares (``skip-if-unknown-filter`` skips these)."""

    def __init__(self, field: str, offset: int = -1) -> None:
        super().__init__(f"filter_check called with nonexistent field {field}", offset)
        self.field = field
