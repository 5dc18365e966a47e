"""Issue 25: a refusal reaches the person as one whole sentence in their language, never an
English noun, action or state code slotted into a translated frame."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import StaffRole
from accounts.selectors import require_staff_role
from core.errors import NOT_FOUND, REFUSED_MOVES, AppError, InvalidTransition, NotFound
from core.states import StateMachine
from disputes.states import CASE
from governance.states import proposal_machine
from ledger import accounts as ledger_accounts
from ledger.services import transfer
from payments.states import DEPOSIT, WITHDRAWAL
from payouts.states import PAYOUT, SEPA_BATCH
from tasks import services
from tasks.models import Assignment
from tasks.states import ASSIGNMENT, BATCH
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import published_batch

MACHINES = [DEPOSIT, WITHDRAWAL, BATCH, ASSIGNMENT, proposal_machine, CASE, PAYOUT, SEPA_BATCH]
# Names that stay as they are in every language (a standard's or a marketplace's own name).
PROPER_NAMES = re.compile(r"\b(SEPA|API|HIT)\b")
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(autouse=True)
def _language_of_the_next_test() -> Iterator[None]:
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _states(machine: StateMachine) -> set[str]:
    return {state for sources, target in machine.transitions.values() for state in {*sources, target}}


def _english_left(text: str) -> list[str]:
    return LATIN.findall(PROPER_NAMES.sub("", text))


def test_every_machine_has_its_own_sentence() -> None:
    assert {machine.name for machine in MACHINES} <= set(REFUSED_MOVES)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda machine: machine.name)
def test_a_refused_move_comes_whole_in_hindi_for_every_state(machine: StateMachine) -> None:
    with translation.override("hi"):
        for state in sorted(_states(machine)):
            for action in machine.transitions:
                if machine.allowed(state, action):
                    continue
                with pytest.raises(InvalidTransition) as caught:
                    machine.target(state, action)
                message = caught.value.message
                assert _english_left(message) == [], (machine.name, state, action, message)
                assert state not in message and action not in message
                assert caught.value.details == {"state": state, "action": action}


def test_not_found_comes_whole_in_hindi_for_every_thing() -> None:
    with translation.override("hi"):
        for what in NOT_FOUND:
            message = NotFound(what).message
            assert _english_left(message) == [], (what, message)
        assert NotFound("something new").message == "ऐसी कोई वस्तु नहीं है।"
    with translation.override("es"):
        assert NotFound("proposal").message == "No existe esa propuesta."
        assert NotFound("case").message == "No existe ese caso."


@pytest.mark.django_db
def test_a_staff_only_refusal_names_the_role_and_the_roles_held_in_the_readers_words() -> None:
    person = UserFactory()
    with translation.override("hi"), pytest.raises(AppError) as caught:
        require_staff_role(user=person, role=StaffRole.TREASURER, doing="see every member's dividend")
    assert caught.value.message == "यह केवल कोषाध्यक्ष कर सकता है। स्टाफ़ में आपकी कोई भूमिका नहीं है।"
    assert caught.value.status_code == 403
    with translation.override("en"), pytest.raises(AppError) as caught:
        require_staff_role(user=person, role=StaffRole.MODERATOR)
    assert caught.value.message == "Only a moderator can do this. You hold no staff role."
    assert "moderator" not in caught.value.message.split(".")[1]


@pytest.mark.django_db
def test_a_refusal_through_the_api_comes_whole_in_hindi(requester: Any, organisation: Any) -> None:
    batch = published_batch(organisation)
    worker = UserFactory()
    work = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "yes"}
    )
    services.assignment_approve(actor=requester, assignment=work)
    api = APIClient(HTTP_ACCEPT_LANGUAGE="hi")
    api.force_authenticate(requester)
    response = api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/reject/",
        {"reason": "incomplete", "text": "Changed my mind."},
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_state"
    assert error["message"].startswith("इस असाइनमेंट के साथ यह अभी नहीं किया जा सकता। इसकी स्थिति: ")
    assert _english_left(error["message"]) == [], error["message"]
    assert error["details"] == {"state": "approved", "action": "rejected"}
    work.refresh_from_db()
    assert work.status == Assignment.Status.APPROVED


@pytest.mark.django_db
def test_the_413_answer_is_in_the_senders_language(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api = APIClient(HTTP_ACCEPT_LANGUAGE="es")
    response = api.post(
        "/api/auth/register/", data='{"username": "' + "x" * 2000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert error["message"] == "La solicitud es demasiado grande: se puede enviar como máximo 1000\u00a0bytes a la vez."


@pytest.mark.django_db
def test_an_overdraft_refusal_comes_whole_in_the_readers_language(organisation: Any, worker: Any) -> None:
    fund(organisation, 1_000)
    with translation.override("es"), pytest.raises(AppError) as caught:
        transfer(
            transfer_id="overdraft",
            debit=ledger_accounts.org_available(organisation),
            credit=ledger_accounts.worker_earnings(worker),
            amount=1_250,
            code="bonus",
        )
    assert caught.value.code == "insufficient_funds"
    assert caught.value.message == (
        "Al saldo disponible de la organización le faltan 2,50\u00a0€: se necesitan 12,50\u00a0€ y hay "
        "10,00\u00a0€ disponibles. Añade fondos al saldo de la organización, o reserva menos, e inténtalo de nuevo."
    )


def test_a_batch_requirement_is_a_whole_sentence_in_the_readers_language() -> None:
    from tasks.models import QualificationRequirement
    from tasks.selectors import requirement_text

    rate = QualificationRequirement(kind=QualificationRequirement.Kind.APPROVAL_RATE, value=9550)
    count = QualificationRequirement(kind=QualificationRequirement.Kind.APPROVED_COUNT, value=1)
    where = QualificationRequirement(kind=QualificationRequirement.Kind.LOCALE, countries="AT,DE", reason="Dialekt")
    with translation.override("en"):
        assert requirement_text(rate) == "An approval rate of at least 95.5% (see the published formula)."
        assert requirement_text(count) == "At least 1 approved assignment on the platform."
    with translation.override("es"):
        assert requirement_text(rate) == "Una tasa de aprobación de al menos 95,5% (consulta la fórmula publicada)."
        assert requirement_text(where) == "Ubicación en AT, DE. Motivo del solicitante: Dialekt"
    with translation.override("hi"):
        assert _english_left(requirement_text(count)) == []
