"""The daily reconciliation recognises worker payouts' transfers and reversals."""

import pytest
from django.test import TestCase
from django.utils import timezone

from payments.reconciliation import reconciliation_run
from payouts import services
from tests.payouts.factories import deliver, earn, stripe_worker

pytestmark = pytest.mark.django_db


def test_transfers_and_reversals_of_payouts_reconcile(fake_stripe) -> None:
    kept = stripe_worker(fake_stripe)
    returned = stripe_worker(fake_stripe)
    earn(kept, 30_00)
    earn(returned, 20_00)
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = services.payout_request(user=kept)
        second = services.payout_request(user=returned)
    second.refresh_from_db()
    failed = fake_stripe.payout_settle(second.stripe_payout_id, status="failed")
    deliver(fake_stripe.event("payout.failed", failed, account=second.destination["account"]))

    types = sorted(row["type"] for row in fake_stripe.balance_transactions)
    assert types == ["transfer", "transfer", "transfer_refund"]
    run = reconciliation_run(day=timezone.now().date())
    assert list(run.differences.values_list("kind", "note")) == []
    assert first.pk != second.pk


def test_a_transfer_no_payout_made_is_reported(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    account_id = services.ConnectedAccount.objects.get(user=user).stripe_account_id
    fake_stripe._transfer_create({"amount": "500", "currency": "eur", "destination": account_id}, None)
    run = reconciliation_run(day=timezone.now().date())
    assert list(run.differences.values_list("kind", flat=True)) == ["unknown_transaction"]
