from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "docs" / "wire-contract" / "fixtures"


@pytest.fixture
def wire_fixture():
    """Load one of the wire fixtures shared with the Java tests."""

    def load(name: str) -> dict:
        return json.loads((FIXTURES / name).read_text())

    return load
