"""Without Chromium the browser tests skip with the reason, unless CI requires them."""

import pytest

from tests.frontend.conftest import _unavailable


def test_missing_browser_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        _unavailable("chromium is missing")


def test_missing_browser_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_BROWSER=1 but chromium is missing"):
        _unavailable("chromium is missing")
