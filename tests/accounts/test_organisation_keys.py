"""Issue 19, point 1: an organisation's API key acts for the organisation, never as the
person who created it. The attack reproduced: with the owner's key, add a stranger's IBAN
as the owner's payout destination and ask for a payout of the owner's earnings."""

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, Organisation, User, WorkerProfile
from governance.models import Ballot, Proposal
from ledger.selectors import ledger_check, worker_balance
from payouts.models import Payout, PayoutMethod
from tests.payouts.factories import VALID_IBAN_2, earn

pytestmark = pytest.mark.django_db


def _key_client(organisation: Organisation, owner: User) -> APIClient:
    created = account_services.api_key_create(organisation=organisation, created_by=owner, label="scripts")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created.key.access_key_id}:{created.secret}")
    return client


def test_owner_key_cannot_redirect_the_owners_earnings(organisation: Organisation, requester: User) -> None:
    earn(requester, 5_000)
    client = _key_client(organisation, requester)
    before = worker_balance(user=requester)

    method = client.post(
        "/api/payouts/methods/",
        {"rail": "sepa", "iban": VALID_IBAN_2, "account_holder": "A Stranger"},
        format="json",
    )
    payout = client.post("/api/payouts/payouts/", {}, format="json")

    for response in (method, payout):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "organisation_key_refused"
    assert PayoutMethod.objects.filter(user=requester).count() == 0
    assert Payout.objects.filter(user=requester).count() == 0
    after = worker_balance(user=requester)
    assert before is not None and after is not None
    assert (after.available, after.pending, after.posted) == (before.available, before.pending, before.posted)
    assert ledger_check() == []


def test_owner_key_cannot_edit_profile_join_or_vote(organisation: Organisation, requester: User) -> None:
    client = _key_client(organisation, requester)
    profile_before = list(WorkerProfile.objects.filter(user=requester).values())

    answers = [
        client.patch("/api/profile/", {"country": "VE"}, format="json"),
        client.post("/api/membership/", {}, format="json"),
        client.get("/api/me/"),
        client.get("/api/governance/proposals/"),
        client.get("/api/tasks/feed/"),
        client.get("/api/disputes/juror/cases/"),
        client.post("/api/disputes/suspension-appeal/", {"statement": "x"}, format="json"),
    ]

    assert [response.status_code for response in answers] == [403] * len(answers)
    assert {response.json()["error"]["code"] for response in answers} == {"organisation_key_refused"}
    assert list(WorkerProfile.objects.filter(user=requester).values()) == profile_before
    assert not Membership.objects.filter(user=requester).exists()
    assert Ballot.objects.count() == 0 and Proposal.objects.count() == 0


def test_owner_key_still_works_for_the_organisation(organisation: Organisation, requester: User) -> None:
    client = _key_client(organisation, requester)
    assert client.get(f"/api/organisations/{organisation.slug}/batches/").status_code == 200
    assert client.get(f"/api/organisations/{organisation.slug}/balance/").status_code == 200
    # ... but not another organisation's, even one its creator also staffs.
    other = account_services.organisation_create(
        owner=requester, legal_name="Other", display_name="Other", country="DE", contact_email="o@example.org"
    )
    assert client.get(f"/api/organisations/{other.slug}/batches/").status_code == 404


def test_owner_key_cannot_mint_more_keys(organisation: Organisation, requester: User) -> None:
    """Key management is a person's act: a leaked key cannot make itself a successor."""
    client = _key_client(organisation, requester)
    count = organisation.api_keys.count()
    response = client.post(f"/api/organisations/{organisation.slug}/api-keys/", {"label": "x"}, format="json")
    assert response.status_code == 403
    assert organisation.api_keys.count() == count


def test_a_key_request_is_throttled_as_the_key_not_as_its_creator(organisation: Organisation, requester: User) -> None:
    from core.throttling import _user_or_address

    client = _key_client(organisation, requester)
    response = client.get(f"/api/organisations/{organisation.slug}/")
    request = response.wsgi_request
    assert response.status_code == 200
    assert _user_or_address(None, request).startswith("key:")  # type: ignore[arg-type]
