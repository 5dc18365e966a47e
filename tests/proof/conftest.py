"""Fixtures of the proof tests: one world with every object the routes take."""

from pathlib import Path
from typing import Any

import pytest

from tests.proof.world import World, world_build


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path  # exports the world writes stay out of var/
    return world_build()


from tests.fakes.fixtures import fake_stripe  # noqa: E402, F401
