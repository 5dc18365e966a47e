"""The patronage dividend through the API and the pages: members propose and see their own
computation, the treasurer sees the whole, others are refused (issue 28 point 1)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as account_services
from governance.models import Dividend, Proposal
from tests.factories import MemberFactory, UserFactory
from tests.governance.test_dividends import AFTER_TODAY, TODAY, adopt_and_take_effect, fixed_ledger, propose

pytestmark = pytest.mark.django_db


def _decided() -> tuple:  # type: ignore[type-arg]
    ana, ben, carla = fixed_ledger()
    proposal = adopt_and_take_effect(propose(ana, 64_00), [ana, ben])
    return ana, ben, carla, Dividend.objects.get(proposal=proposal)


def test_a_member_sees_the_surplus_and_their_own_computation(api: APIClient) -> None:
    _ana, ben, _, dividend = _decided()
    api.force_authenticate(ben)
    surplus = api.get("/api/governance/surplus/", {"period_start": TODAY, "period_end": TODAY})
    assert surplus.status_code == 200
    # The ledger has moved on since (the set-aside and reserve are not fees earned or costs).
    assert (surplus.data["fees_earned"], surplus.data["reserve"], surplus.data["surplus"]) == (100_00, 16_00, 64_00)
    assert "largest remainders" in surplus.data["formula"]
    listed = api.get("/api/governance/dividends/")
    assert listed.status_code == 200
    [row] = listed.data
    # 64.00 by 350:150 = 44.80 and 19.20 exactly.
    assert (row["id"], row["amount"], row["total_patronage"], row["my_patronage"], row["my_share"]) == (
        dividend.pk,
        64_00,
        500_00,
        150_00,
        19_20,
    )
    assert row["my_status"] == "owed"  # the job runs after commit, outside this test's transaction
    assert set(row["rule_versions"]) == {"dividend_reserve_bps", "dividend_bonuses_count"}
    refused = api.get(f"/api/governance/dividends/{dividend.pk}/allocations/")
    assert refused.status_code == 403


def test_the_treasurer_sees_every_share_and_others_are_refused(api: APIClient) -> None:
    ana, ben, carla, dividend = _decided()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    api.force_authenticate(treasurer)
    whole = api.get(f"/api/governance/dividends/{dividend.pk}/allocations/")
    assert whole.status_code == 200
    assert sorted((row["member"], row["patronage"], row["amount"]) for row in whole.data) == sorted(
        [(ana.username, 350_00, 44_80), (ben.username, 150_00, 19_20)]
    )
    api.force_authenticate(carla)  # a worker who is not a member
    assert api.get("/api/governance/dividends/").status_code == 403
    assert api.get("/api/governance/surplus/", {"period_start": TODAY, "period_end": TODAY}).status_code == 403


def test_a_dividend_beyond_the_surplus_is_refused_through_the_api(api: APIClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ana, _, _ = fixed_ledger()
    monkeypatch.setattr("django.utils.timezone.now", lambda: AFTER_TODAY)
    api.force_authenticate(ana)
    body = {
        "kind": "dividend",
        "title": "Too much",
        "body": "More than we have.",
        "dividend_period_start": str(TODAY),
        "dividend_period_end": str(TODAY),
        "dividend_amount": 64_01,
    }
    response = api.post("/api/governance/proposals/", body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "dividend_beyond_surplus"
    assert response.json()["error"]["details"]["surplus"] == 64_00
    assert not Proposal.objects.exists()
    body["dividend_amount"] = 64_00
    created = api.post("/api/governance/proposals/", body, format="json")
    assert created.status_code == 201
    assert (created.data["kind"], created.data["dividend_amount"], created.data["rule_class"]) == (
        "dividend",
        64_00,
        "economic",
    )


def test_the_pages_show_each_their_part(client: Client) -> None:
    ana, ben, carla, dividend = _decided()
    client.force_login(ben)
    page = client.get("/coop/dividends/", {"period_start": TODAY, "period_end": TODAY})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="num my-share">19.20 EUR' in text
    assert 'class="num my-patronage">150.00 EUR' in text
    assert 'class="num surplus-amount">64.00 EUR' in text
    assert client.get(f"/coop/proposals/{dividend.proposal_id}/").status_code == 200
    assert client.get("/treasury/dividends/").status_code == 403
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    client.force_login(treasurer)
    whole = client.get("/treasury/dividends/").content.decode()
    assert ana.username in whole and ben.username in whole and carla.username not in whole
    assert "64.00 EUR" in whole
    client.force_login(MemberFactory())
    assert "You earned nothing" in client.get("/coop/dividends/").content.decode()
