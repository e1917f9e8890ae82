from pathlib import Path

import pytest

from shared_data import SHARED

RULES_DIR = SHARED / "rules" / "falcosecurity"


@pytest.fixture
def rules_dir() -> Path:
    if not RULES_DIR.is_dir():
        pytest.skip(f"official rule files not found at {RULES_DIR} (../shared is absent)")
    return RULES_DIR
