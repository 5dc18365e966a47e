"""Governance refusals name rules, rule class parameters and staff roles in words, in the
reader's language, never by their stored keys (issue 25)."""

import pytest
from django.utils import translation

from accounts import appointments
from core.errors import AppError
from governance import services
from governance.models import Proposal
from tests.factories import UserFactory
from tests.governance.factories import members

pytestmark = pytest.mark.django_db

KEYS = ("quorum_bps", "threshold_numerator", "threshold_denominator", "threshold_inclusive", "secret_ballot", "_")


def _class_change_refused(parameters: dict[str, object], language: str) -> AppError:
    (author,) = members(1)
    with translation.override(language), pytest.raises(AppError) as refused:
        services.proposal_create(
            author=author,
            kind="bylaw",
            title="Change a class",
            body="Why not.",
            target_class_key="economic",
            class_parameters=parameters,
        )
    return refused.value


def _words(error: AppError) -> str:
    return " ".join([error.message, *(str(text) for texts in (error.fields or {}).values() for text in texts)])


def test_rule_class_parameters_are_named_in_words_in_german() -> None:
    quorum = _class_change_refused({"quorum_bps": 10_001}, "de")
    assert quorum.message == (
        "Das Quorum muss eine ganze Zahl von Hundertstelprozent des Wählerverzeichnisses sein, von 0 bis 10.000."
    )
    secret = _class_change_refused({"secret_ballot": "yes"}, "de")
    assert secret.message == "Ob die Abstimmung geheim ist, muss als true oder false angegeben werden."
    threshold = _class_change_refused({"threshold_numerator": 4, "threshold_denominator": 3}, "de")
    assert "Zähler" in _words(threshold)
    unknown = _class_change_refused({"colour": "red"}, "de")
    assert "quorum_bps (das Quorum, in Hundertstelprozent des Wählerverzeichnisses)" in _words(unknown)
    for error in (quorum, secret, threshold):
        assert not any(key in _words(error) for key in KEYS), _words(error)


def test_a_rule_value_out_of_its_limits_is_told_in_the_rules_unit_in_hindi() -> None:
    (author,) = members(1)
    with translation.override("hi"), pytest.raises(AppError) as refused:
        services.proposal_create(
            author=author,
            kind=Proposal.Kind.RULE_CHANGE,
            title="Many waves",
            body="More waves.",
            rule_key="dispatch_waves",
            proposed_value=500,
        )
    message = refused.value.message
    assert "1 दौर" in message and "96 दौर" in message and "500 दौर" in message
    assert "waves" not in message and "dispatch" not in message


def test_staff_roles_are_named_by_their_labels_in_french() -> None:
    author, person = members(1)[0], UserFactory()
    with translation.override("fr"), pytest.raises(AppError) as refused:
        services.proposal_create(
            author=author,
            kind=Proposal.Kind.APPOINTMENT,
            title="Appoint",
            body="Because.",
            appointee_username=person.username,
            staff_role="auditor",
            appointment_action="grant",
        )
    (field,) = refused.value.fields["staff_role"]
    assert field == "Choisissez l'un des rôles du personnel : Vérificateur, Trésorier, Modérateur."
    with translation.override("fr"), pytest.raises(AppError) as refused:
        appointments.staff_role_grant(user=person, role="auditor", source="bootstrap")
    assert refused.value.message == (
        "Il n'existe pas de rôle du personnel « auditor » ; les rôles du personnel sont : "
        "Vérificateur, Trésorier, Modérateur."
    )


def test_the_result_chart_of_a_closed_proposal_is_labelled_in_german() -> None:
    from django.test import Client

    from tests.governance.factories import after_close, policy, to_voting, vote

    voters = members(2)
    proposal = to_voting(policy(voters[0]))
    vote(proposal, voters, "yes")
    services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal))
    page = Client()
    page.force_login(voters[0])
    html = page.get(f"/coop/proposals/{proposal.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Quorum: " in html and " von 2 Stimmzetteln" in html
    assert "Ergebnis von „" in html
    assert "ballots" not in html and "Result of" not in html
