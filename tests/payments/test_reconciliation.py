"""Daily reconciliation of the ledger's external accounts with Stripe and the bank."""

from datetime import UTC, datetime

import pytest

from payments.jobs import reconcile_daily
from payments.models import Deposit, ReconciliationDifference, ReconciliationRun
from payments.reconciliation import reconciliation_run
from tests.payments.factories import fund_by_bank, fund_by_card, request_withdrawal

pytestmark = pytest.mark.django_db


def test_a_day_where_everything_agrees_records_no_difference(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=100_00)
    fund_by_bank(organisation=organisation, actor=requester, amount=40_00)
    request_withdrawal(organisation=organisation, actor=requester, amount=25_00, method="stripe_refund")

    today = datetime.now(UTC).date()
    assert reconcile_daily(today.isoformat()) == 0

    run = ReconciliationRun.objects.get(day=today)
    assert (run.stripe_transactions, run.stripe_net_reported, run.stripe_net_booked) == (2, 7500, 7500)
    assert (run.bank_net_confirmed, run.bank_net_booked) == (4000, 4000)


def test_a_payment_at_stripe_that_nobody_here_started_is_reported(organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    stray = fake_stripe._balance_transaction(kind="charge", amount=999, currency="eur", source="ch_stray")

    run = reconciliation_run(day=datetime.now(UTC).date())

    (difference,) = run.differences.all()
    assert (difference.rail, difference.kind, difference.reference) == ("stripe", "unknown_transaction", stray)
    assert (difference.rail_amount, difference.ledger_amount) == (999, None)


def test_a_credit_stripe_does_not_list_is_reported_and_a_rerun_keeps_one_row(
    organisation, requester, fake_stripe
) -> None:
    deposit = fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=10_00)
    fake_stripe.balance_transactions.clear()  # as if Stripe never settled the charge

    day = datetime.now(UTC).date()
    reconciliation_run(day=day)
    run = reconciliation_run(day=day)

    (difference,) = ReconciliationDifference.objects.all()
    assert difference.run == run
    assert (difference.kind, difference.reference, difference.ledger_amount) == (
        "missing_at_rail",
        deposit.reference,
        1000,
    )


def test_a_paid_charge_never_credited_is_missing_in_the_ledger(organisation, requester, fake_stripe) -> None:
    from payments import services

    deposit = services.deposit_stripe_start(organisation=organisation, actor=requester, amount=10_00)
    intent = fake_stripe.payment_intent_succeed(deposit.stripe_payment_intent_id)
    # The webhook has not arrived; record the charge id as a partial sync would.
    Deposit.objects.filter(pk=deposit.pk).update(stripe_charge_id=intent["latest_charge"])

    run = reconciliation_run(day=datetime.now(UTC).date())

    (difference,) = run.differences.all()
    assert (difference.kind, difference.rail_amount) == ("missing_in_ledger", 1000)


def test_a_refund_that_failed_and_was_given_back_reconciles(organisation, requester, fake_stripe) -> None:
    from tests.payments.factories import deliver

    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=50_00)
    request_withdrawal(organisation=organisation, actor=requester, amount=20_00, method="stripe_refund")
    (refund_id,) = fake_stripe.objects["refund"]
    deliver(fake_stripe.event("refund.failed", fake_stripe.refund_fail(refund_id)))

    run = reconciliation_run(day=datetime.now(UTC).date())

    assert list(run.differences.all()) == []
    assert (run.stripe_transactions, run.stripe_net_reported, run.stripe_net_booked) == (3, 5000, 5000)


def test_treasurer_resolves_a_difference_and_others_cannot(api, organisation, requester, fake_stripe) -> None:
    from tests.factories import UserFactory
    from tests.payments.factories import treasurer

    fake_stripe._balance_transaction(kind="charge", amount=500, currency="eur", source="ch_stray")
    difference = reconciliation_run(day=datetime.now(UTC).date()).differences.get()
    url = f"/api/treasury/differences/{difference.pk}/resolve/"

    for someone in (requester, UserFactory()):
        api.force_authenticate(someone)
        assert api.post(url, {"resolution": "ok"}).status_code == 403
    difference.refresh_from_db()
    assert difference.resolved_at is None

    boss = treasurer()
    api.force_authenticate(boss)
    assert [d["reference"] for d in api.get("/api/treasury/differences/").json()["results"]] == [difference.reference]
    assert api.post(url, {"resolution": " "}).status_code == 400
    response = api.post(url, {"resolution": "Test charge from the Stripe dashboard; refunded by hand."})
    assert response.status_code == 200
    assert response.json()["resolution"] == "Test charge from the Stripe dashboard; refunded by hand."
    assert api.post(url, {"resolution": "again"}).status_code == 409
    assert api.get("/api/treasury/differences/").json()["results"] == []

    reconciliation_run(day=datetime.now(UTC).date())  # a re-run keeps the resolution
    difference.refresh_from_db()
    assert (difference.resolved_by, difference.kind) == (boss, "unknown_transaction")


def test_the_nightly_job_reconciles_the_last_two_days(fake_stripe) -> None:
    from datetime import timedelta

    assert reconcile_daily() == 0
    today = datetime.now(UTC).date()
    assert sorted(ReconciliationRun.objects.values_list("day", flat=True)) == [
        today - timedelta(days=2),
        today - timedelta(days=1),
    ]
