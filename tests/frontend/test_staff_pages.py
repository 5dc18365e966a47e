"""The staff console's pages and the requester's team and verification pages, through the
Django test client: each action by the role it needs, a reason required, nothing changed on
a refusal, and the audit log searchable without ballots, votes or personal data."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import teams, verification
from accounts.models import OrganisationStaff, OrganisationVerification
from core.models import AuditEvent
from disputes.models import Case
from governance import services as governance_services
from tests.factories import OrganisationFactory, UserFactory, staff_member
from tests.governance.factories import members, to_voting

pytestmark = pytest.mark.django_db

DETAILS = {
    "legal_name": "Heron Analytics Ltd",
    "country": "GB",
    "registration_number": "01234567",
    "address": "1 River Lane, York",
    "responsible_person": "Sam Heron",
}


def pending() -> OrganisationVerification:
    organisation = OrganisationFactory(verified=False)
    return verification.verification_submit(
        organisation=organisation,
        actor=organisation.staff.get().user,
        documents=[SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")],
        **DETAILS,
    )


def test_a_verifier_refuses_from_the_console_only_with_a_published_reason(client: Client) -> None:
    request = pending()
    verifier = staff_member("verifier")
    client.force_login(verifier)
    assert "Heron Analytics Ltd" in client.get("/staff/verifications/").content.decode()
    url = f"/staff/verifications/{request.pk}/refuse/"
    response = client.post(url, {"refuse-code": "", "refuse-text": "Not in the register."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == OrganisationVerification.State.SUBMITTED
    client.post(url, {"refuse-code": "registration_not_found", "refuse-text": "Not in the register."})
    request.refresh_from_db()
    assert (request.state, request.refusal_code, request.decided_by) == (
        "refused",
        "registration_not_found",
        verifier,
    )
    # The requester reads the reason on its verification page and dashboard.
    owner = request.organisation.staff.get().user
    client.force_login(owner)
    page = client.get(f"/org/{request.organisation.slug}/verification/").content.decode()
    assert "Refused: The registration or tax number was not found in the public register." in page
    assert "Not in the register." in page
    assert "Refused:" in client.get(f"/org/{request.organisation.slug}/").content.decode()


def test_a_treasurer_or_moderator_cannot_decide_verifications(client: Client) -> None:
    request = pending()
    for someone in (staff_member("treasurer"), staff_member("moderator")):
        client.force_login(someone)
        response = client.post(f"/staff/verifications/{request.pk}/approve/", {"approve-reason": "Fine."})
        assert response.status_code == 403
    request.refresh_from_db()
    assert request.state == OrganisationVerification.State.SUBMITTED and not request.organisation.is_verified


def test_a_moderator_suspends_from_the_people_page_and_the_appeal_opens(client: Client) -> None:
    person = UserFactory()
    moderator = staff_member("moderator")
    client.force_login(moderator)
    page = client.get("/staff/people/", {"q": person.username}).content.decode()
    assert f"Suspend {person.username}" in page
    url = f"/staff/people/{person.pk}/suspend/"
    client.post(url, {"suspend-code": "harassment", "suspend-reason": ""})
    person.refresh_from_db()
    assert not person.is_suspended and not Case.objects.exists()
    client.post(url, {"suspend-code": "harassment", "suspend-reason": "Insulted a juror in the evidence."})
    person.refresh_from_db()
    assert person.is_suspended
    assert Case.objects.get(worker=person).kind == "suspension"
    # A verifier sees the people list but has no suspend button and cannot post one.
    client.force_login(staff_member("verifier"))
    assert "Lift the suspension" not in client.get("/staff/people/").content.decode()
    response = client.post(f"/staff/people/{person.pk}/lift/", {"lift-reason": "Mine."})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.is_suspended


def test_the_audit_search_finds_rows_and_holds_no_ballot_choice_or_email(client: Client) -> None:
    voters = members(2)
    proposal = to_voting(
        governance_services.proposal_create(
            author=voters[0],
            kind="appointment",
            title="Appoint",
            body="Why.",
            appointee_username=voters[1].username,
            staff_role="moderator",
            appointment_action="grant",
        )
    )
    governance_services.ballot_cast(
        proposal_id=proposal.pk, voter=voters[0], choice="no", now=proposal.voting_opened_at
    )
    organisation = OrganisationFactory()
    owner = organisation.staff.get().user
    teams.invitation_create(organisation=organisation, actor=owner, email="secret.person@example.org", role="finance")
    client.force_login(staff_member("treasurer"))
    ballots = client.get("/api/staff/audit/", {"action": "ballot."}).json()
    assert [(row["action"], row["after"]) for row in ballots] == [("ballot.cast", {"ballot": "secret"})]
    invited = client.get("/api/staff/audit/", {"action": "organisation.member_invited"}).json()
    assert invited[0]["after"] == {"email": "[hidden]", "role": "finance"}
    page = client.get("/staff/audit/", {"actor": owner.username}).content.decode()
    assert "organisation.member_invited" in page and "secret.person@example.org" not in page
    unknown = client.get("/api/staff/audit/", {"actor": "nobody-at-all"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid")
    client.force_login(UserFactory())
    assert client.get("/api/staff/audit/").status_code == 403
    assert client.get("/staff/audit/").status_code == 403


def test_the_team_page_invites_and_the_invited_person_accepts(client: Client, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    organisation = OrganisationFactory()
    owner = organisation.staff.get().user
    invited = UserFactory()
    client.force_login(owner)
    response = client.post(f"/org/{organisation.slug}/team/", {"email": invited.email, "role": "finance"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="organisation.member_invited").count() == 1
    client.force_login(invited)
    # The page's mail is sent on commit (not in this test's transaction); a second
    # invitation made through the service hands its token over directly.
    token = teams.invitation_create(organisation=organisation, actor=owner, email=invited.email, role="finance")[1]
    page = client.get(f"/invitations/{token}/").content.decode()
    assert "Accept and join the team" in page
    response = client.post(f"/invitations/{token}/")
    assert response["Location"] == f"/org/{organisation.slug}/"
    assert OrganisationStaff.objects.get(organisation=organisation, user=invited).role == "finance"
    # Finance cannot reach the keys page or invite; the owner removes them.
    assert client.get(f"/org/{organisation.slug}/keys/").status_code == 403
    refused = client.post(f"/org/{organisation.slug}/team/", {"email": "x@example.org", "role": "owner"})
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="organisation.member_invited").count() == 2
    client.force_login(owner)
    assert re.search(r"Remove " + invited.username, client.get(f"/org/{organisation.slug}/team/").content.decode())
    client.post(f"/org/{organisation.slug}/team/{invited.pk}/remove/")
    assert not OrganisationStaff.objects.filter(organisation=organisation, user=invited).exists()
    client.post(f"/org/{organisation.slug}/team/{owner.pk}/remove/")
    assert OrganisationStaff.objects.filter(organisation=organisation, user=owner).exists()
