"""pytest fixtures for the fakes; import them into an app's conftest.py."""

from collections.abc import Iterator

import pytest

from payments import stripe_gateway
from tests.fakes.stripe_api import FakeStripe

WEBHOOK_SECRET = "whsec_test_fake"
CONNECT_WEBHOOK_SECRET = "whsec_test_fake_connect"


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:  # type: ignore[no-untyped-def]
    """A fresh fake Stripe account that every gateway call of the test talks to."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_WEBHOOK_SECRET
    settings.STRIPE_API_BASE = ""
    fake = FakeStripe()
    stripe_gateway.use_http_client(fake)
    try:
        yield fake
    finally:
        stripe_gateway.use_http_client(None)
