"""Card refunds are owed before they are paid: the withdrawal records each refund in its
own transaction, then a job sends them. A crash at any write of that job is finished by
the resume job, with each refund made once at Stripe and posted once in the ledger."""

import contextlib
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from core.models import JobItemFailure
from ledger.models import Transfer
from payments import services
from payments.jobs import withdrawal_process, withdrawals_resume
from payments.models import Withdrawal
from tests.faults import every_write
from tests.payments.factories import fund_by_card

# Real commits: a crash between two writes leaves the first committed, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_refund_is_paid_once_whatever_write_of_the_job_fails(
    organisation, requester, fake_stripe, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from core import queue

    def setup() -> Withdrawal:
        fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
        with monkeypatch.context() as patched:  # the job runs below, under the fault
            patched.setattr(queue, "queue_now", lambda name, **kwargs: None)
            withdrawal = services.withdrawal_request(
                organisation=organisation, actor=requester, amount=10_00, method="stripe_refund"
            )
        # Owed before paid: the refund is recorded with the withdrawal.
        assert [(r.amount, r.status) for r in withdrawal.refunds.all()] == [(10_00, "pending")]
        return withdrawal

    def run() -> None:
        withdrawal = Withdrawal.objects.order_by("-id").first()
        assert withdrawal is not None
        with contextlib.suppress(OperationalError):  # the crash ends this run of the job
            withdrawal_process(withdrawal.pk)

    def retry() -> None:
        Withdrawal.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        JobItemFailure.objects.all().delete()
        withdrawals_resume()

    def check(withdrawal: Withdrawal) -> None:
        withdrawal.refresh_from_db()
        assert (withdrawal.status, withdrawal.paid_amount) == ("completed", 10_00)
        refunds = [
            r for r in fake_stripe.objects["refund"].values() if r["metadata"]["withdrawal_id"] == str(withdrawal.pk)
        ]
        assert [r["amount"] for r in refunds] == [10_00]
        assert Transfer.objects.filter(pk=f"withdrawal:{withdrawal.pk}:post").count() == 1

    assert every_write(setup=setup, run=run, retry=retry, check=check, only=lambda sql: "core_job" not in sql) >= 2
