"""Organisation registration, juror opt-in and the suspension appeal, through the pages."""

import pytest
from django.test import Client

from accounts.models import Membership, Organisation
from disputes.models import Case
from tests.factories import MemberFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db


def test_a_requester_registers_an_organisation(client: Client, worker) -> None:
    client.force_login(worker)
    refused = client.post(
        "/org/new/", {"legal_name": "Lab GmbH", "display_name": "Lab", "country": "D1", "contact_email": "a@b.example"}
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["country"] == ["Use e.g. DE or US."]
    assert Organisation.objects.count() == 0
    response = client.post(
        "/org/new/", {"legal_name": "Lab GmbH", "display_name": "Lab", "country": "DE", "contact_email": "a@b.example"}
    )
    organisation = Organisation.objects.get()
    assert response["Location"] == f"/org/{organisation.slug}/"
    assert not organisation.is_verified
    dashboard = client.get(response["Location"]).content.decode()
    assert "has not verified your legal identity yet" in dashboard


def test_a_member_opts_in_and_out_of_jury_service(client: Client) -> None:
    member = MemberFactory(membership__juror_opt_in=False)
    client.force_login(member)
    client.post("/coop/juror/", {"juror_opt_in": "on"})
    assert Membership.objects.get(user=member).juror_opt_in is True
    client.post("/coop/juror/", {})
    assert Membership.objects.get(user=member).juror_opt_in is False


def test_a_suspended_worker_reads_the_reason_and_appeals(client: Client) -> None:
    from disputes import services as dispute_services
    from disputes.services import AUTO_APPEAL_STATEMENT

    staff = staff_member("moderator")
    worker = UserFactory()
    dispute_services.user_suspend(
        user=worker, actor=staff, code="fraudulent_work", reason="Answers copied between tasks."
    )
    client.force_login(worker)
    page = client.get("/work/profile/").content.decode()
    assert "Answers copied between tasks." in page
    # The appeal opened with the suspension; the worker's statement goes on it.
    case = Case.objects.get()
    assert case.statement == AUTO_APPEAL_STATEMENT
    empty = client.post("/work/suspension-appeal/", {"statement": ""})
    assert empty.status_code == 302 and Case.objects.get().statement == AUTO_APPEAL_STATEMENT
    response = client.post("/work/suspension-appeal/", {"statement": "Each answer was my own."})
    case = Case.objects.get()
    assert case.statement == "Each answer was my own."
    assert response["Location"] == f"/cases/{case.pk}/"
    assert client.get(response["Location"]).status_code == 200


def test_stripe_payouts_are_set_up_on_stripes_own_pages(client: Client, worker, fake_stripe) -> None:
    from accounts import services as account_services
    from payouts.models import PayoutMethod

    account_services.worker_profile_update(user=worker, changes={"country": "DE"})
    client.force_login(worker)
    assert b"Set up payouts with Stripe" in client.get("/work/payouts/").content
    response = client.post("/work/payouts/stripe/")
    assert response.status_code == 302 and response["Location"].startswith("https://")
    assert PayoutMethod.objects.get(user=worker, retired_at__isnull=True).rail == "stripe_connect"


def test_stripe_payouts_need_a_country_first(client: Client, worker, fake_stripe) -> None:
    from payouts.models import PayoutMethod

    client.force_login(worker)
    response = client.post("/work/payouts/stripe/", follow=True)
    assert response.redirect_chain[-1][0] == "/work/payouts/"
    assert PayoutMethod.objects.filter(user=worker).count() == 0
    assert any("country" in str(m).lower() for m in response.context["messages"])
