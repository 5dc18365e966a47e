"""Records that change only through services are read-only in the admin, even for a superuser."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SERVICE_OWNED = [
    "core/auditevent",
    "ledger/transfer",
    "ledger/account",
    "payments/deposit",
    "tasks/assignment",
    "disputes/case",
    "governance/ruleversion",
    "payouts/payout",
    "mturk/hit",
]


@pytest.mark.parametrize("model", SERVICE_OWNED)
def test_service_owned_records_cannot_be_added_in_the_admin(client: Client, model: str) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403
