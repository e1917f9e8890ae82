"""Fixtures for the app tests."""

from __future__ import annotations

import pytest
from app_helpers import engine_compiles, enter_events_filtered, replay_ready, run_tercel


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


@pytest.fixture
def enter_filtered(replay_stack):
    why = enter_events_filtered()
    if why:
        pytest.skip(why)
