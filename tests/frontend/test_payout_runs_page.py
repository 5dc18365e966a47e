"""The treasurer follows scheduled payout runs on the payouts page, live while they pay."""

import pytest
from django.test import Client
from django.utils import timezone

from payouts.models import PayoutRun
from tests.factories import UserFactory
from tests.payments.factories import treasurer

pytestmark = pytest.mark.django_db


def test_the_treasurer_sees_runs_and_an_unfinished_run_is_followed_live(client: Client) -> None:
    PayoutRun.objects.create(key="weekly:2026-W47", frequency="weekly", finished_at=timezone.now(), payouts_created=12)
    running = PayoutRun.objects.create(key="daily:2026-11-22", frequency="daily", payouts_created=3)
    client.force_login(treasurer())
    html = client.get("/treasury/payouts/").content.decode()
    assert "weekly:2026-W47" in html and "daily:2026-11-22" in html
    assert "Paying workers" in html
    assert 'hx-trigger="every 2s"' in html

    PayoutRun.objects.filter(pk=running.pk).update(finished_at=timezone.now(), payouts_created=40)
    html = client.get("/treasury/payouts/").content.decode()
    assert "Paying workers" not in html
    assert 'hx-trigger="every 2s"' not in html
    assert ">40<" in html


def test_no_one_else_sees_payout_runs(client: Client) -> None:
    PayoutRun.objects.create(key="weekly:2026-W47", frequency="weekly", payouts_created=12)
    client.force_login(UserFactory())
    response = client.get("/treasury/payouts/")
    assert response.status_code in (403, 404)
    assert b"weekly:2026-W47" not in response.content
