"""Fixtures for the app tests."""

from __future__ import annotations

import pytest
from app_helpers import run_tercel


@pytest.fixture
def tercel():
    return run_tercel
