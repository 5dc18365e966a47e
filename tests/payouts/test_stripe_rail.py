"""The Stripe Connect rail end to end, through the real ``stripe`` library against the
in-process fake: onboarding, one transfer per payout, the bank payout's webhooks in
any order and number, reversals, and a job killed between Stripe and our record."""

import pytest
from django.test import TestCase

from core.errors import AppError
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from payments.models import WebhookEvent
from payouts import services
from payouts.jobs import payouts_resume, run_weekly
from payouts.models import ConnectedAccount, Payout
from tests.factories import signed_in_now
from tests.payouts.factories import current_method, deliver, earn, stripe_worker

pytestmark = pytest.mark.django_db


def _transfers_to(fake, account_id: str) -> list[dict]:
    return [t for t in fake.objects["transfer"].values() if t["destination"] == account_id]


def _bank_payouts(fake, account_id: str) -> list[dict]:
    return [p for p in fake.objects["payout"].values() if p["stripe_account"] == account_id]


def _available(user) -> int:
    return balance(accounts.worker_earnings(user)).available


def _submitted_payout(fake, user, amount: int = 40_00) -> Payout:
    earn(user, amount)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    return payout


def test_onboarding_creates_one_connected_account_and_a_link(fake_stripe) -> None:
    user = stripe_worker(fake_stripe, onboarded=False)
    connected = ConnectedAccount.objects.get(user=user)
    account = fake_stripe.get("account", connected.stripe_account_id)
    assert account["country"] == "DE"
    assert connected.payouts_enabled is False
    method = current_method(user)
    assert (method.rail, method.destination) == ("stripe_connect", {"account": connected.stripe_account_id})
    created = [r for r in fake_stripe.requests if r.path == "/v1/accounts" and r.method == "post"]
    assert created[0].params["settings"] == {"payouts": {"schedule": {"interval": "manual"}}}
    assert created[0].idempotency_key == f"connect:user:{user.pk}:account"
    links = [r for r in fake_stripe.requests if r.path == "/v1/account_links"]
    assert links[0].params["type"] == "account_onboarding"

    # Starting again (the link expired) reuses the account and gives a new link.
    again = services.stripe_onboarding_start(
        user=user, fresh_sign_in=signed_in_now(user), return_url="https://a.test/r", refresh_url="https://a.test/f"
    )
    assert again.connected_account.pk == connected.pk
    assert len(fake_stripe.objects["account"]) == 1
    assert again.url.startswith("https://connect.stripe.com/setup/s/")


def test_payout_is_refused_until_stripe_reports_payouts_enabled(fake_stripe) -> None:
    user = stripe_worker(fake_stripe, onboarded=False)
    earn(user, 20_00)
    with pytest.raises(AppError) as error:
        services.payout_request(user=user)
    assert error.value.code == "payout_method_not_ready"
    assert not Payout.objects.exists()
    assert _available(user) == 20_00
    assert not fake_stripe.objects["transfer"]


def test_account_updated_out_of_order_keeps_the_newest_state(fake_stripe) -> None:
    user = stripe_worker(fake_stripe, onboarded=False)
    connected = ConnectedAccount.objects.get(user=user)
    stale = fake_stripe.event(
        "account.updated",
        fake_stripe.get("account", connected.stripe_account_id),
        account=connected.stripe_account_id,
    )
    enabled = fake_stripe.account_complete_onboarding(connected.stripe_account_id)
    fresh = fake_stripe.event("account.updated", enabled, account=connected.stripe_account_id)
    deliver(fresh)
    deliver(stale)  # older, delivered late: ignored
    deliver(fresh)  # duplicate: stored once
    connected.refresh_from_db()
    assert connected.payouts_enabled is True
    assert connected.payouts_enabled_at is not None
    assert connected.state_as_of == fresh["created"]
    assert WebhookEvent.objects.filter(type="account.updated").count() == 2
    assert WebhookEvent.objects.get(stripe_event_id=fresh["id"]).deliveries == 2


def test_weekly_run_transfers_once_and_payout_paid_posts_the_ledger(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    earn(user, 35_00)
    account_id = ConnectedAccount.objects.get(user=user).stripe_account_id

    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()  # beat fired twice: still one payout in this run

    payout = Payout.objects.get(user=user)
    assert (payout.state, payout.amount) == ("submitted", 35_00)
    assert payout.rule_versions["payout_minimum_floor"]["value"] == 500
    [transfer] = _transfers_to(fake_stripe, account_id)
    assert transfer["amount"] == 35_00
    assert transfer["transfer_group"] == f"payouts:{payout.run.key}"
    assert transfer["metadata"] == {"payout_id": str(payout.pk)}
    [bank_payout] = _bank_payouts(fake_stripe, account_id)
    assert payout.stripe_transfer_id == transfer["id"]
    assert payout.stripe_payout_id == bank_payout["id"]
    keys = {r.idempotency_key for r in fake_stripe.requests if r.path in ("/v1/transfers", "/v1/payouts")}
    assert keys == {f"payout:{payout.pk}:transfer", f"payout:{payout.pk}:bank_payout"}
    # Reserved, not yet gone: the worker cannot spend it twice.
    assert _available(user) == 0
    assert Transfer.objects.get(pk=f"payout:{payout.pk}").kind == "pending"

    paid = fake_stripe.payout_settle(bank_payout["id"], status="paid")
    event = fake_stripe.event("payout.paid", paid, account=account_id)
    deliver(event)
    deliver(event)  # Stripe delivers again

    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID and payout.paid_at is not None
    assert Transfer.objects.filter(pending_id=f"payout:{payout.pk}").count() == 1
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:post").amount == 35_00
    assert balance(accounts.worker_earnings(user)).posted == 0
    # 36.00 came in from the requester; 35.00 left to the worker; the co-op's 1.00 fee stays.
    assert balance(accounts.external_stripe()).posted == -36_00 + 35_00
    assert ledger_check() == []


def test_payout_failed_returns_the_money_and_reverses_the_transfer(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    failed = fake_stripe.payout_settle(payout.stripe_payout_id, status="failed", failure_code="account_closed")
    event = fake_stripe.event("payout.failed", failed, account=payout.destination["account"])
    deliver(event)

    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert payout.failure_code == "account_closed"
    assert "The bank account has been closed." in payout.failure_message
    assert "back in your balance" in payout.failure_message
    assert _available(user) == 40_00
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:void").amount == 40_00
    transfer = fake_stripe.get("transfer", payout.stripe_transfer_id)
    assert transfer["reversed"] is True and transfer["amount_reversed"] == 40_00
    assert payout.stripe_reversal_id.startswith("trr_")

    # Our own reversal comes back as transfer.reversed, late and twice: nothing more happens.
    reversed_event = fake_stripe.event("transfer.reversed", transfer, account=None)
    deliver(reversed_event)
    deliver(reversed_event)
    deliver(event)
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert len(transfer["reversals"]["data"]) == 1
    assert Transfer.objects.filter(pending_id=f"payout:{payout.pk}").count() == 1
    assert _available(user) == 40_00
    assert ledger_check() == []


def test_paid_then_failed_out_of_order_ends_failed_with_money_back_once(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    account_id = payout.destination["account"]
    paid_event = fake_stripe.event(
        "payout.paid", fake_stripe.payout_settle(payout.stripe_payout_id), account=account_id
    )
    failed_event = fake_stripe.event(
        "payout.failed", fake_stripe.payout_settle(payout.stripe_payout_id, status="failed"), account=account_id
    )
    deliver(failed_event)  # the later event arrives first
    deliver(paid_event)
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert not Transfer.objects.filter(pk=f"payout:{payout.pk}:post").exists()
    assert _available(user) == 40_00
    assert ledger_check() == []


def test_a_payout_returned_after_paid_is_credited_back(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    account_id = payout.destination["account"]
    deliver(fake_stripe.event("payout.paid", fake_stripe.payout_settle(payout.stripe_payout_id), account=account_id))
    assert _available(user) == 0
    deliver(
        fake_stripe.event(
            "payout.failed", fake_stripe.payout_settle(payout.stripe_payout_id, status="failed"), account=account_id
        )
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert Transfer.objects.get(pk=f"payout:{payout.pk}:returned").amount == 40_00
    assert _available(user) == 40_00
    assert fake_stripe.get("transfer", payout.stripe_transfer_id)["reversed"] is True
    assert ledger_check() == []


def test_transfer_reversed_before_the_bank_payout_fails_the_payout(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    # Someone reversed the transfer in Stripe's dashboard.
    fake_stripe._transfer_reversal_create(payout.stripe_transfer_id, {})
    transfer = fake_stripe.get("transfer", payout.stripe_transfer_id)
    deliver(fake_stripe.event("transfer.reversed", transfer))
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert payout.failure_code == "transfer_reversed"
    assert _available(user) == 40_00
    assert ledger_check() == []


def test_an_event_about_another_account_settles_nothing(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    paid = fake_stripe.payout_settle(payout.stripe_payout_id)
    deliver(fake_stripe.event("payout.paid", paid, account="acct_someone_else"))
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert not Transfer.objects.filter(pk=f"payout:{payout.pk}:post").exists()
    assert WebhookEvent.objects.get(type="payout.paid").status == WebhookEvent.Status.PROCESSED


def test_killed_after_stripe_and_retried_pays_once(fake_stripe, monkeypatch) -> None:
    user = stripe_worker(fake_stripe)
    earn(user, 25_00)
    account_id = ConnectedAccount.objects.get(user=user).stripe_account_id

    def killed(**kwargs):
        raise SystemExit("worker killed after Stripe answered, before the record")

    original = services._submission_record
    monkeypatch.setattr(services, "_submission_record", killed)
    with pytest.raises(SystemExit), TestCase.captureOnCommitCallbacks(execute=True):
        services.payout_request(user=user)
    payout = Payout.objects.get(user=user)
    assert payout.state == Payout.State.CREATED and payout.stripe_transfer_id is None
    assert len(_transfers_to(fake_stripe, account_id)) == 1

    monkeypatch.setattr(services, "_submission_record", original)
    Payout.objects.filter(pk=payout.pk).update(created_at=payout.created_at.replace(year=2020))
    assert payouts_resume() == 1  # the periodic job picks it up again
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert len(_transfers_to(fake_stripe, account_id)) == 1
    assert len(_bank_payouts(fake_stripe, account_id)) == 1
    replayed = [r for r in fake_stripe.requests if r.path == "/v1/transfers" and r.replayed]
    assert len(replayed) == 1

    paid = fake_stripe.payout_settle(payout.stripe_payout_id)
    deliver(fake_stripe.event("payout.paid", paid, account=account_id))
    payout.refresh_from_db()
    assert payout.state == Payout.State.PAID
    assert Transfer.objects.filter(code="payout", kind="post_pending").count() == 1
    assert Transfer.objects.filter(code="payout", kind="pending").count() == 1
    assert ledger_check() == []


def test_webhook_before_the_crashed_job_recorded_still_pays_once(fake_stripe, monkeypatch) -> None:
    """The bank payout's ``payout.paid`` arrives while our record of the submission is
    missing: the payout is found by its metadata, paid once, and the retried job is a no-op."""
    user = stripe_worker(fake_stripe)
    earn(user, 25_00)
    account_id = ConnectedAccount.objects.get(user=user).stripe_account_id
    monkeypatch.setattr(services, "_submission_record", lambda **kwargs: (_ for _ in ()).throw(SystemExit()))
    with pytest.raises(SystemExit), TestCase.captureOnCommitCallbacks(execute=True):
        services.payout_request(user=user)
    monkeypatch.undo()
    [bank_payout] = _bank_payouts(fake_stripe, account_id)
    deliver(fake_stripe.event("payout.paid", fake_stripe.payout_settle(bank_payout["id"]), account=account_id))
    payout = Payout.objects.get(user=user)
    assert payout.state == Payout.State.PAID and payout.stripe_payout_id == bank_payout["id"]
    retried = services.payout_submit(payout_id=payout.pk)  # the job runs again
    assert retried.state == Payout.State.PAID
    assert retried.stripe_transfer_id == _transfers_to(fake_stripe, account_id)[0]["id"]
    assert len(_transfers_to(fake_stripe, account_id)) == 1
    assert len(_bank_payouts(fake_stripe, account_id)) == 1
    assert ledger_check() == []


def test_failed_before_the_crashed_job_recorded_still_reverses_the_transfer(fake_stripe, monkeypatch) -> None:
    user = stripe_worker(fake_stripe)
    earn(user, 25_00)
    account_id = ConnectedAccount.objects.get(user=user).stripe_account_id
    monkeypatch.setattr(services, "_submission_record", lambda **kwargs: (_ for _ in ()).throw(SystemExit()))
    with pytest.raises(SystemExit), TestCase.captureOnCommitCallbacks(execute=True):
        services.payout_request(user=user)
    monkeypatch.undo()
    [bank_payout] = _bank_payouts(fake_stripe, account_id)
    failed = fake_stripe.payout_settle(bank_payout["id"], status="failed")
    deliver(fake_stripe.event("payout.failed", failed, account=account_id))
    payout = Payout.objects.get(user=user)
    [transfer] = _transfers_to(fake_stripe, account_id)
    assert payout.state == Payout.State.FAILED
    assert payout.stripe_transfer_id == transfer["id"]
    assert transfer["reversed"] is True
    assert _available(user) == 25_00
    assert ledger_check() == []


def test_stripe_unreachable_leaves_the_payout_created_for_a_retry(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    earn(user, 25_00)
    fake_stripe.lose_next_responses(1)  # the transfer happens, the answer is lost
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    assert payout.state == Payout.State.CREATED
    services.payout_submit(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.state == Payout.State.SUBMITTED
    assert len(fake_stripe.objects["transfer"]) == 1
    assert ledger_check() == []


def test_stripe_refusing_the_bank_payout_fails_and_reverses(fake_stripe) -> None:
    user = stripe_worker(fake_stripe)
    earn(user, 25_00)
    fake_stripe.refuse_next("/v1/payouts", code="payouts_not_allowed", message="Payouts are disabled.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user)
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED
    assert "Payouts are disabled." in payout.failure_message
    [transfer] = fake_stripe.objects["transfer"].values()
    assert transfer["reversed"] is True
    assert _available(user) == 25_00
    assert ledger_check() == []


def test_a_suspended_worker_is_still_paid(fake_stripe) -> None:
    from django.utils import timezone

    user = stripe_worker(fake_stripe)
    earn(user, 30_00)
    user.suspended_at = timezone.now()
    user.suspension_reason = "Under review"
    user.save(update_fields=["suspended_at", "suspension_reason"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()
    payout = Payout.objects.get(user=user)
    assert (payout.state, payout.amount) == ("submitted", 30_00)
    assert ledger_check() == []


def test_a_lost_reversal_answer_is_finished_by_reversals_resume(fake_stripe) -> None:
    from payouts.jobs import reversals_resume

    user = stripe_worker(fake_stripe)
    payout = _submitted_payout(fake_stripe, user)
    failed = fake_stripe.payout_settle(payout.stripe_payout_id, status="failed")
    fake_stripe.lose_next_responses(1)  # the reversal happens, its answer is lost
    deliver(fake_stripe.event("payout.failed", failed, account=payout.destination["account"]))
    payout.refresh_from_db()
    assert payout.state == Payout.State.FAILED and payout.stripe_reversal_id == ""
    assert reversals_resume() == 1
    payout.refresh_from_db()
    transfer = fake_stripe.get("transfer", payout.stripe_transfer_id)
    assert payout.stripe_reversal_id == transfer["reversals"]["data"][0]["id"]
    assert len(transfer["reversals"]["data"]) == 1
    assert reversals_resume() == 0
    assert _available(user) == 40_00
    assert ledger_check() == []
