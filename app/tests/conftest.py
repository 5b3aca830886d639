"""Shared fixtures. Tests import `service` from the app directory, as the image does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APP_DIR))

from service import create_app  # noqa: E402
from service.config import Settings  # noqa: E402


@pytest.fixture()
def client():
    app = create_app(Settings(name="demo", version="3f2c1a9", test_routes=False))
    return app.test_client()
