"""The funding API: deposits, withdrawals, balance and the treasurer's confirmation."""

import pytest
from django.test import TestCase

from accounts.services import api_key_create
from ledger.models import Transfer
from payments.models import Deposit, Withdrawal
from tests.factories import OrganisationFactory, UserFactory
from tests.payments.factories import fund_by_bank, fund_by_card, treasurer

pytestmark = pytest.mark.django_db


def test_requester_starts_a_card_deposit(api, organisation, requester, fake_stripe) -> None:
    api.force_authenticate(requester)
    response = api.post(f"/api/organisations/{organisation.slug}/deposits/", {"method": "stripe", "amount": "25.50"})
    assert response.status_code == 201, response.json()
    body = response.json()
    deposit = Deposit.objects.get()
    assert body["status"] == "pending" and body["amount"] == "25.50" and body["currency"] == "EUR"
    assert body["stripe"] == {
        "payment_intent": deposit.stripe_payment_intent_id,
        "client_secret": deposit.stripe_client_secret,
        "publishable_key": "pk_test_fake",
    }
    assert body["bank_transfer"] is None


def test_requester_announces_a_bank_transfer_and_sees_where_to_send_it(api, organisation, requester, settings) -> None:
    api.force_authenticate(requester)
    response = api.post(f"/api/organisations/{organisation.slug}/deposits/", {"method": "bank", "amount": "100"})
    assert response.status_code == 201
    deposit = Deposit.objects.get()
    assert response.json()["bank_transfer"] == {
        "account_holder": settings.COOP_BANK_NAME,
        "iban": settings.COOP_BANK_IBAN,
        "bic": settings.COOP_BANK_BIC,
        "reference": deposit.reference,
        "amount": "100.00",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"method": "bank", "amount": "12.345"}, "amount"),
        ({"method": "bank", "amount": "-3"}, "amount"),
        ({"method": "cash", "amount": "3"}, "method"),
        ({"method": "bank", "amount": "3", "extra": 1}, "extra"),
    ],
)
def test_bad_deposit_input_is_refused(api, organisation, requester, payload, field) -> None:
    api.force_authenticate(requester)
    response = api.post(f"/api/organisations/{organisation.slug}/deposits/", payload, format="json")
    assert response.status_code == 400
    assert field in str(response.json()["error"])
    assert not Deposit.objects.exists()


def test_balance_shows_available_and_escrowed(api, organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=75_25)
    api.force_authenticate(requester)
    response = api.get(f"/api/organisations/{organisation.slug}/balance/")
    assert response.json() == {
        "currency": "EUR",
        "available": "75.25",
        "escrowed": "0.00",
        "card_bound": "0.00",
        "bank_withdrawable": "75.25",
    }


def test_other_organisations_see_nothing(api, organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=10_00)
    api.force_authenticate(OrganisationFactory().staff.get().user)
    for url in ("deposits/", "withdrawals/", "balance/"):
        assert api.get(f"/api/organisations/{organisation.slug}/{url}").status_code == 404
    response = api.post(f"/api/organisations/{organisation.slug}/withdrawals/", {"method": "bank", "amount": "1"})
    assert response.status_code == 404
    assert not Withdrawal.objects.exists()


def test_an_api_key_works_only_for_its_organisation(api, organisation, requester) -> None:
    other = OrganisationFactory(owner=requester)
    key = api_key_create(organisation=other, created_by=requester)
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key.key.access_key_id}:{key.secret}")
    assert api.get(f"/api/organisations/{other.slug}/balance/").status_code == 200
    assert api.get(f"/api/organisations/{organisation.slug}/balance/").status_code == 404


def test_deposit_list_pages_with_a_fixed_number_of_queries(
    api, organisation, requester, django_assert_max_num_queries
) -> None:
    for amount in range(1, 8):
        fund_by_bank(organisation=organisation, actor=requester, amount=amount * 100)
    api.force_authenticate(requester)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/organisations/{organisation.slug}/deposits/?page_size=5")
    body = response.json()
    assert body["count"] == 7
    assert [d["amount"] for d in body["results"]] == ["7.00", "6.00", "5.00", "4.00", "3.00"]


def test_treasurer_confirms_a_bank_deposit(api, organisation, requester) -> None:
    api.force_authenticate(requester)
    deposit_id = api.post(
        f"/api/organisations/{organisation.slug}/deposits/", {"method": "bank", "amount": "40.00"}
    ).json()["id"]
    api.force_authenticate(treasurer())

    assert [d["id"] for d in api.get("/api/treasury/deposits/").json()["results"]] == [deposit_id]
    response = api.post(f"/api/treasury/deposits/{deposit_id}/confirm/", {"amount": "39.90"})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["credited_amount"]) == ("confirmed", "39.90")
    api.force_authenticate(requester)
    assert api.get(f"/api/organisations/{organisation.slug}/balance/").json()["available"] == "39.90"


def test_only_the_treasurer_can_confirm_and_others_change_nothing(api, organisation, requester) -> None:
    api.force_authenticate(requester)
    deposit_id = api.post(
        f"/api/organisations/{organisation.slug}/deposits/", {"method": "bank", "amount": "40.00"}
    ).json()["id"]
    for someone in (requester, UserFactory(), UserFactory(is_staff=True)):
        api.force_authenticate(someone)
        response = api.post(f"/api/treasury/deposits/{deposit_id}/confirm/", {"amount": "40.00"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert api.get("/api/treasury/deposits/").status_code == 403
    api.force_authenticate(None)
    assert api.post(f"/api/treasury/deposits/{deposit_id}/confirm/", {}).status_code in (401, 403)
    api.force_authenticate(treasurer())
    assert api.post("/api/treasury/deposits/999999/confirm/", {}).status_code == 404

    deposit = Deposit.objects.get()
    assert (deposit.status, deposit.credited_amount) == ("awaiting_transfer", 0)
    assert not Transfer.objects.exists()


def test_requester_withdraws_by_card_refund(api, organisation, requester, fake_stripe) -> None:
    fund_by_card(organisation=organisation, actor=requester, fake=fake_stripe, amount=50_00)
    api.force_authenticate(requester)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(
            f"/api/organisations/{organisation.slug}/withdrawals/", {"method": "stripe_refund", "amount": "20.00"}
        )
    assert response.status_code == 201
    # The refund runs in a job after commit: the answer says requested, the list shows the outcome.
    assert (response.json()["status"], response.json()["amount"]) == ("requested", "20.00")
    (listed,) = api.get(f"/api/organisations/{organisation.slug}/withdrawals/").json()["results"]
    assert (listed["status"], listed["paid_amount"]) == ("completed", "20.00")
    assert len(fake_stripe.objects["refund"]) == 1
    assert api.get(f"/api/organisations/{organisation.slug}/balance/").json()["available"] == "30.00"


def test_withdrawal_above_available_is_a_409(api, organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=5_00)
    api.force_authenticate(requester)
    response = api.post(
        f"/api/organisations/{organisation.slug}/withdrawals/",
        {"method": "bank", "amount": "5.01", "iban": "DE89370400440532013000", "account_holder": "Lab"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert not Withdrawal.objects.exists()
    assert api.get(f"/api/organisations/{organisation.slug}/balance/").json()["available"] == "5.00"


def test_treasurer_sees_and_sends_bank_withdrawals(api, organisation, requester) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=30_00)
    api.force_authenticate(requester)
    withdrawal_id = api.post(
        f"/api/organisations/{organisation.slug}/withdrawals/",
        {"method": "bank", "amount": "12.00", "iban": "DE89 3704 0044 0532 0130 00", "account_holder": "Lab GmbH"},
    ).json()["id"]
    assert api.get("/api/treasury/withdrawals/").status_code == 403
    assert api.post(f"/api/treasury/withdrawals/{withdrawal_id}/confirm/").status_code == 403
    assert Withdrawal.objects.get().status == Withdrawal.Status.REQUESTED

    api.force_authenticate(treasurer())
    (listed,) = api.get("/api/treasury/withdrawals/").json()["results"]
    assert (listed["organisation"], listed["iban"], listed["account_holder"], listed["amount"]) == (
        organisation.slug,
        "DE89370400440532013000",
        "Lab GmbH",
        "12.00",
    )
    response = api.post(f"/api/treasury/withdrawals/{withdrawal_id}/confirm/")
    assert (response.json()["status"], response.json()["paid_amount"]) == ("completed", "12.00")
    assert api.get("/api/treasury/withdrawals/").json()["results"] == []
