"""pytest fixtures for the fakes; import them into an app's conftest.py."""

from collections.abc import Iterator

import pytest

from payments import stripe_gateway
from payouts.rails import wise_client
from tests.fakes.stripe_api import FakeStripe
from tests.fakes.wise_api import FakeWise

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


@pytest.fixture
def fake_wise(settings) -> Iterator[FakeWise]:  # type: ignore[no-untyped-def]
    """A fresh fake Wise that every ``wise_client`` call of the test talks to."""
    fake = FakeWise()
    settings.WISE_API_TOKEN = fake.token
    settings.WISE_PROFILE_ID = fake.profile_id
    settings.WISE_WEBHOOK_PUBLIC_KEY = fake.public_key_pem
    settings.WISE_API_BASE = "https://api.wise.test"
    wise_client.use_transport(fake)
    try:
        yield fake
    finally:
        wise_client.use_transport(None)
