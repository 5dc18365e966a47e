from collections.abc import Iterator

import pytest
from django.utils import timezone

from tests.disputes.factories import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    real_now = timezone.now
    moved = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + moved.offset)
    yield moved
