"""The worker's REST API under /api/payouts/."""

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from ledger import accounts
from ledger.selectors import balance
from payouts.models import Payout, PayoutMethod, PayoutSchedule
from payouts.services import payout_request
from tests.factories import PASSWORD
from tests.payouts.factories import VALID_IBAN, earn, sepa_worker, worker_in

pytestmark = pytest.mark.django_db


def test_anonymous_callers_are_refused(api) -> None:
    for url in ("/api/payouts/balance/", "/api/payouts/methods/", "/api/payouts/payouts/", "/api/payouts/statement/"):
        response = api.get(url)
        assert response.status_code in (401, 403)
        assert response.json()["error"]["code"] == "not_authenticated"


def test_choose_a_sepa_method_and_see_the_history(api) -> None:
    user = worker_in("DE")
    api.force_authenticate(user)
    created = api.post(
        "/api/payouts/methods/",
        {"rail": "sepa", "iban": VALID_IBAN, "account_holder": "Ana", "password": PASSWORD},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["display"] == "DE89 **** 3000 (Ana)"
    assert created.json()["current"] is True
    refused = api.post(
        "/api/payouts/methods/",
        {"rail": "sepa", "iban": "DE00 0000", "account_holder": "Ana", "password": PASSWORD},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_destination"
    assert "iban" in refused.json()["error"]["fields"]
    typo = api.post("/api/payouts/methods/", {"rail": "sepa", "ibna": VALID_IBAN}, format="json")
    assert typo.status_code == 400
    assert PayoutMethod.objects.filter(user=user).count() == 1
    history = api.get("/api/payouts/methods/").json()
    assert [m["rail"] for m in history] == ["sepa"]


def test_stripe_onboarding_through_the_api(api, fake_stripe) -> None:
    user = worker_in("FR")
    api.force_authenticate(user)
    response = api.post(
        "/api/payouts/methods/stripe/",
        {"return_url": "https://coop.test/back", "refresh_url": "https://coop.test/again", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["onboarding_url"].startswith("https://connect.stripe.com/setup/s/acct_")
    assert body["payouts_enabled"] is False
    assert body["method"]["rail"] == "stripe_connect"
    assert "Finish Stripe" in api.get("/api/payouts/balance/").json()["not_ready_reason"]


def test_schedule_get_and_put(api) -> None:
    user = worker_in("DE")
    api.force_authenticate(user)
    assert api.get("/api/payouts/schedule/").json()["frequency"] == "weekly"
    updated = api.put("/api/payouts/schedule/", {"frequency": "daily", "minimum_amount": "20.00"}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["frequency"], updated.json()["minimum_amount"]) == ("daily", "20.00")
    low = api.put("/api/payouts/schedule/", {"frequency": "weekly", "minimum_amount": "1.00"}, format="json")
    assert low.status_code == 400
    assert low.json()["error"]["code"] == "minimum_below_floor"
    assert PayoutSchedule.objects.get(user=user).minimum_amount == 20_00


def test_request_a_payout_and_list_it(api) -> None:
    user = sepa_worker()
    earn(user, 30_00)
    api.force_authenticate(user)
    too_much = api.post("/api/payouts/payouts/", {"amount": "30.01"}, format="json")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "amount_above_balance"
    assert "30.00 EUR" in too_much.json()["error"]["message"]
    assert not Payout.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = api.post("/api/payouts/payouts/", {"amount": "12.50"}, format="json")
    assert created.status_code == 201
    assert (created.json()["amount"], created.json()["state"], created.json()["requested"]) == (
        "12.50",
        "created",
        True,
    )
    assert balance(accounts.worker_earnings(user)).available == 17_50
    figures = api.get("/api/payouts/balance/").json()
    assert (figures["available"], figures["on_the_way"]) == ("17.50", "12.50")
    detail = api.get(f"/api/payouts/payouts/{created.json()['id']}/")
    assert detail.json()["destination"].startswith("DE89")
    assert api.get("/api/payouts/payouts/?state=paid").json()["results"] == []


def test_someone_elses_payout_is_not_found(api) -> None:
    owner = sepa_worker()
    earn(owner, 30_00)
    api.force_authenticate(owner)
    payout_id = api.post("/api/payouts/payouts/", {}, format="json").json()["id"]
    api.force_authenticate(sepa_worker())
    response = api.get(f"/api/payouts/payouts/{payout_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_payout_list_takes_a_fixed_number_of_queries(api) -> None:
    user = sepa_worker()
    earn(user, 100_00)
    api.force_authenticate(user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/payouts/payouts/").status_code == 200
        return len(queries)

    payout_request(user=user, amount=10_00)
    one = count()
    for _ in range(5):
        payout_request(user=user, amount=10_00)
    assert count() == one
