"""Fixtures for the app tests."""

from __future__ import annotations

import pytest
from app_helpers import engine_compiles, replay_ready, run_tercel


@pytest.fixture
def tercel():
    return run_tercel


@pytest.fixture
def engine():
    why = engine_compiles()
    if why:
        pytest.skip(why)


@pytest.fixture
def replay_stack():
    why = replay_ready() or engine_compiles()
    if why:
        pytest.skip(why)
