"""Issue 19, point 12 (second half): a payout destination is added or changed only with a
fresh sign-in (and the second factor where enabled), the person is told by e-mail, and
payouts to a new destination wait the governed hold, during which the person can cancel."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.reauthentication import SESSION_SIGNED_IN_AT, FreshSignIn
from core.errors import AppError
from governance.selectors import rule_value
from ledger.selectors import ledger_check, worker_balance
from payouts import services
from payouts.models import Payout, PayoutMethod
from tests.accounts.test_two_factor import code_for, enrol
from tests.factories import PASSWORD, signed_in_now
from tests.payouts.factories import VALID_IBAN, VALID_IBAN_2, earn, treasurer, worker_in

pytestmark = pytest.mark.django_db

SEPA = {"rail": "sepa", "iban": VALID_IBAN_2, "account_holder": "Ana Worker"}


def _balance(user: User) -> tuple[int, int, int]:
    figures = worker_balance(user=user)
    assert figures is not None
    return figures.available, figures.pending, figures.posted


def test_the_hold_is_a_governed_rule_founded_at_48_hours() -> None:
    assert rule_value("payout_destination_hold_hours") == 48


def test_the_api_refuses_a_new_destination_without_a_fresh_sign_in(api: APIClient) -> None:
    worker = worker_in("DE")
    earn(worker, 5_000)
    api.force_authenticate(worker)  # a stolen token, say: no password
    before = _balance(worker)
    for body in (SEPA, {**SEPA, "password": "not my password"}):
        refused = api.post("/api/payouts/methods/", body, format="json")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] in {"reauthentication_required", "reauthentication_failed"}
    assert not PayoutMethod.objects.filter(user=worker).exists()
    assert _balance(worker) == before and ledger_check() == []


def test_a_new_destination_is_announced_and_its_first_payout_held(
    api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    worker = worker_in("DE")
    earn(worker, 5_000)
    api.force_authenticate(worker)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/payouts/methods/", {**SEPA, "password": PASSWORD}, format="json")
    assert created.status_code == 201
    method = PayoutMethod.objects.get(user=worker)
    assert method.first_payout_not_before is not None
    hold = method.first_payout_not_before - timezone.now()
    assert timedelta(hours=47, minutes=59) < hold <= timedelta(hours=48)
    assert [message.to for message in mail.outbox] == [[worker.email]]
    assert "FR14 **** 2606" in mail.outbox[0].body or method.display in mail.outbox[0].body

    payout = api.post("/api/payouts/payouts/", {}, format="json")
    assert payout.status_code == 201 and payout.json()["held_until"] is not None
    held = Payout.objects.get(user=worker)
    # Not in the treasurer's bank file while held.
    with pytest.raises(AppError) as error:
        services.sepa_batch_create(actor=treasurer())
    assert error.value.code == "nothing_to_batch"
    assert Payout.objects.get(pk=held.pk).batch_id is None

    # The person cancels it: the money is back, the books balance.
    cancelled = api.post(f"/api/payouts/payouts/{held.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "failed"
    assert _balance(worker)[0] == 5_000
    assert ledger_check() == []


def test_a_payout_whose_hold_is_over_goes_out_and_can_no_longer_be_cancelled() -> None:
    worker = worker_in("DE")
    earn(worker, 5_000)
    services.payout_method_set(
        user=worker,
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Ana"},
        fresh_sign_in=signed_in_now(worker),
    )
    payout = services.payout_request(user=worker)
    Payout.objects.filter(pk=payout.pk).update(held_until=timezone.now() - timedelta(seconds=1))
    before = _balance(worker)
    with pytest.raises(AppError) as error:
        services.payout_cancel_held(user=worker, payout_id=payout.pk)
    assert error.value.code == "payout_not_held"
    assert _balance(worker) == before
    batch = services.sepa_batch_create(actor=treasurer())
    assert list(batch.payouts.values_list("pk", flat=True)) == [payout.pk]


def test_someone_else_cannot_cancel_a_held_payout(api: APIClient) -> None:
    worker, stranger = worker_in("DE"), worker_in("DE")
    earn(worker, 5_000)
    services.payout_method_set(
        user=worker,
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Ana"},
        fresh_sign_in=signed_in_now(worker),
    )
    payout = services.payout_request(user=worker)
    api.force_authenticate(stranger)
    assert api.post(f"/api/payouts/payouts/{payout.pk}/cancel/").status_code == 404
    assert Payout.objects.get(pk=payout.pk).state == Payout.State.CREATED


def test_with_two_factor_the_code_is_needed_too(api: APIClient) -> None:
    worker = worker_in("DE")
    enrol(worker)
    api.force_authenticate(worker)
    refused = api.post("/api/payouts/methods/", {**SEPA, "password": PASSWORD}, format="json")
    assert refused.status_code == 403 and not PayoutMethod.objects.filter(user=worker).exists()
    accepted = api.post("/api/payouts/methods/", {**SEPA, "password": PASSWORD, "otp": code_for(worker)}, format="json")
    assert accepted.status_code == 201
    # A proof without the second factor is not enough for the service either.
    stale = FreshSignIn(user_id=worker.pk, at=timezone.now(), second_factor=False)
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=worker, rail="sepa", details={"iban": VALID_IBAN, "account_holder": "A"}, fresh_sign_in=stale
        )
    assert error.value.code == "reauthentication_required"


def test_the_page_sends_an_old_session_to_re_enter_the_password() -> None:
    worker = worker_in("DE")
    client = Client()
    client.force_login(worker)
    session = client.session
    session[SESSION_SIGNED_IN_AT] = (timezone.now() - timedelta(hours=2)).isoformat()
    session.save()
    form = {"method-iban": VALID_IBAN, "method-account_holder": "Ana Worker"}
    sent_away = client.post("/work/payouts/", form)
    assert sent_away.status_code == 302 and sent_away["Location"].startswith("/account/reauthenticate/")
    assert not PayoutMethod.objects.filter(user=worker).exists()
    back = client.post("/account/reauthenticate/", {"password": PASSWORD, "next": "/work/payouts/"})
    assert back.status_code == 302 and back["Location"] == "/work/payouts/"
    saved = client.post("/work/payouts/", form)
    assert saved.status_code == 302 and saved["Location"] == "/work/payouts/"
    assert PayoutMethod.objects.filter(user=worker).count() == 1


def test_cancelling_an_unknown_payout_is_a_404(api: APIClient) -> None:
    api.force_authenticate(worker_in("DE"))
    response = api.post("/api/payouts/payouts/987654/cancel/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
