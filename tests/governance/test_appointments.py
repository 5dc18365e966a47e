"""Staff roles are accountable: granted and removed by an adopted appointment proposal,
or on a new installation by the bootstrap command for the first holders; listed publicly."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import StaffAppointment, User
from accounts.selectors import user_has_staff_role
from core.errors import AppError
from governance import services
from governance.models import Proposal
from tests.factories import UserFactory, staff_member
from tests.governance.factories import after_close, members, to_voting, vote

pytestmark = pytest.mark.django_db


def appointment(author: User, person: User, role: str, action: str) -> Proposal:
    return services.proposal_create(
        author=author,
        kind=Proposal.Kind.APPOINTMENT,
        title=f"{action} {person.username} as {role}",
        body="They did the work well in the working group.",
        appointee_username=person.username,
        staff_role=role,
        appointment_action=action,
    )


def adopt(proposal: Proposal, voters: list[User]) -> Proposal:
    proposal = to_voting(proposal)
    vote(proposal, voters, "yes")
    closed = services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal))
    assert closed.state == Proposal.State.ADOPTED
    scheduled = services.proposal_schedule(proposal_id=proposal.pk)
    assert scheduled.effective_at is not None
    return services.proposal_take_effect(proposal_id=proposal.pk, now=scheduled.effective_at + timedelta(seconds=1))


def test_an_adopted_appointment_grants_and_a_later_one_removes_the_role(client: Client) -> None:
    voters = members(3)
    person = UserFactory()
    proposal = appointment(voters[0], person, "verifier", "grant")
    assert (proposal.rule_class.key, proposal.rule_class.secret_ballot) == ("appointments", True)
    assert not user_has_staff_role(user=person, role="verifier")
    adopted = adopt(proposal, voters)
    assert adopted.state == Proposal.State.IN_EFFECT
    assert user_has_staff_role(user=person, role="verifier")
    held = StaffAppointment.objects.get(user=person)
    assert (held.role, held.source, held.granted_by_proposal_id, held.ended_at) == (
        "verifier",
        "proposal",
        proposal.pk,
        None,
    )
    client.force_login(person)
    assert client.get("/api/me/").json()["staff_roles"] == ["verifier"]
    assert client.get("/staff/").status_code == 200
    client.logout()
    page = client.get("/coop/staff/").content.decode()
    assert person.username in page and f"proposal {proposal.pk}" in page

    removal = adopt(appointment(voters[1], person, "verifier", "remove"), voters)
    assert not user_has_staff_role(user=person, role="verifier")
    held.refresh_from_db()
    assert held.ended_at is not None and held.ended_by_proposal_id == removal.pk
    roles = client.get("/api/staff/roles/").json()
    assert [(r["username"], r["role"], r["until"] is not None) for r in roles] == [(person.username, "verifier", True)]


def test_a_rejected_appointment_grants_nothing() -> None:
    voters = members(3)
    person = UserFactory()
    proposal = to_voting(appointment(voters[0], person, "moderator", "grant"))
    vote(proposal, voters, "no")
    assert services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal)).state == Proposal.State.REJECTED
    assert not user_has_staff_role(user=person, role="moderator")
    assert not StaffAppointment.objects.exists()


@pytest.mark.parametrize(
    ("username", "role", "action", "field"),
    [
        ("nobody-here", "verifier", "grant", "appointee"),
        (None, "king", "grant", "staff_role"),
        (None, "verifier", "crown", "appointment_action"),
        (None, "verifier", "remove", "appointee"),  # does not hold it
    ],
)
def test_a_malformed_appointment_is_refused(username: Any, role: str, action: str, field: str) -> None:
    author = members(1)[0]
    person = UserFactory()
    with pytest.raises(AppError) as refused:
        services.proposal_create(
            author=author,
            kind="appointment",
            title="Appoint",
            body="Why.",
            appointee_username=username or person.username,
            staff_role=role,
            appointment_action=action,
        )
    assert refused.value.code == "invalid" and field in refused.value.fields
    assert not Proposal.objects.exists()


def test_the_api_makes_appointment_proposals() -> None:
    from rest_framework.test import APIClient

    author = members(1)[0]
    person = UserFactory()
    api = APIClient()
    api.force_authenticate(author)
    response = api.post(
        "/api/governance/proposals/",
        {
            "kind": "appointment",
            "title": "Appoint a treasurer",
            "body": "We need one.",
            "appointee": person.username,
            "staff_role": "treasurer",
            "appointment_action": "grant",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rule_class"], body["appointee"], body["staff_role"], body["appointment_action"]) == (
        "appointments",
        person.username,
        "treasurer",
        "grant",
    )


def test_the_bootstrap_command_appoints_the_first_holders_once() -> None:
    ana, ben, cleo = UserFactory(username="ana"), UserFactory(username="ben"), UserFactory(username="cleo")
    out = io.StringIO()
    call_command("staff_bootstrap", "--verifier", "ana", "--treasurer", "ben", "--moderator", "cleo", stdout=out)
    assert [line.split(" since ")[0] for line in out.getvalue().splitlines()] == [
        "ana: verifier",
        "ben: treasurer",
        "cleo: moderator",
    ]
    assert user_has_staff_role(user=ana, role="verifier") and user_has_staff_role(user=cleo, role="moderator")
    assert user_has_staff_role(user=ben, role="treasurer")
    before = list(StaffAppointment.objects.values_list("id", flat=True))
    with pytest.raises(CommandError, match="only by an adopted appointment proposal"):
        call_command("staff_bootstrap", "--moderator", "ana")
    assert list(StaffAppointment.objects.values_list("id", flat=True)) == before
    assert not user_has_staff_role(user=ana, role="moderator")


def test_the_bootstrap_is_refused_when_any_holder_exists() -> None:
    staff_member("treasurer")
    UserFactory(username="dora")
    with pytest.raises(CommandError, match="already have holders"):
        call_command("staff_bootstrap", "--verifier", "dora")
    with pytest.raises(CommandError, match="No person"):
        call_command("staff_bootstrap", "--verifier", "ghost")
    assert StaffAppointment.objects.count() == 1


def test_the_published_reason_lists_read_in_the_visitors_language_while_decisions_store_english() -> None:
    from django.utils import translation

    from accounts.reasons import SUSPENSION_REASONS, VERIFICATION_REFUSAL_REASONS, reason_text

    page = Client().get("/coop/staff/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Acosar a trabajadores, solicitantes, jurados o personal." in page
    assert "No se pudo confirmar a la persona responsable." in page
    assert "Harassing workers" not in page
    with translation.override("en"):
        english = {str(text) for text in [*SUSPENSION_REASONS.values(), *VERIFICATION_REFUSAL_REASONS.values()]}
    assert [text for text in english if text in page] == []
    api = Client().get("/api/staff/reasons/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Harceler des travailleurs" in api

    with translation.override("de"):  # the audit's sentence stays English whoever decides
        assert reason_text(SUSPENSION_REASONS, "harassment", "Threats in messages.") == (
            "Harassing workers, requesters, jurors or staff. Threats in messages."
        )
