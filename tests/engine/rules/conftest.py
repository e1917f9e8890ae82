from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import INCUBATING, OFFICIAL, SANDBOX, STABLE


@pytest.fixture
def official() -> dict[str, Path]:
    if not STABLE.is_file():
        pytest.skip(f"official rule files not found under {OFFICIAL} (../shared missing)")
    return {"stable": STABLE, "incubating": INCUBATING, "sandbox": SANDBOX}
