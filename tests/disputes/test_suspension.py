"""Suspensions state their reason, go through the same queue, and never touch earnings."""

import pytest
from rest_framework.test import APIClient

from accounts.reasons import SUSPENSION_REASONS
from core.errors import AppError
from disputes import jobs, services
from disputes.models import Case, Juror
from ledger import accounts
from ledger.selectors import balance
from tests.disputes.factories import approve, batch_for, jurors, submitted
from tests.factories import OrganisationFactory, UserFactory, signed_in_now, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return staff_member("moderator")


@pytest.fixture
def earner():
    """A worker with 1000 in earnings from approved work."""
    worker = UserFactory()
    approve(submitted(batch_for(OrganisationFactory()), worker))
    return worker


@pytest.fixture
def suspended(earner, staff):
    return services.user_suspend(
        user=earner, actor=staff, code="fraudulent_work", reason="Answers copied from another worker."
    )


def earnings(user) -> int:
    return balance(accounts.worker_earnings(user)).posted


def test_only_co_op_staff_suspend(earner):
    with pytest.raises(AppError) as refused:
        services.user_suspend(user=earner, actor=UserFactory(), code="harassment", reason="I do not like them.")
    assert refused.value.code == "permission_denied"
    earner.refresh_from_db()
    assert earner.suspended_at is None


def test_a_suspended_worker_reads_the_reason_and_keeps_their_earnings(suspended):
    client = APIClient()
    client.force_authenticate(suspended)
    me = client.get("/api/me/").json()
    assert (me["suspended"], me["suspension_reason"]) == (
        True,
        SUSPENSION_REASONS["fraudulent_work"] + " Answers copied from another worker.",
    )
    suspended.refresh_from_db()
    assert suspended.is_active and earnings(suspended) == 1000


def test_the_suspender_accepting_the_appeal_lifts_the_suspension(suspended, staff):
    client = APIClient()
    client.force_authenticate(suspended)
    response = client.post("/api/disputes/suspension-appeal/", {"statement": "I worked alone."}, format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.kind, case.respondent_id, case.state) == ("suspension", staff.pk, "awaiting_response")
    assert staff.has_perm("disputes.view_case", case)

    services.case_respond(case=case, actor=staff, action="accept")

    suspended.refresh_from_db()
    assert suspended.suspended_at is None and suspended.suspension_reason == ""
    assert earnings(suspended) == 1000


def test_silence_on_an_appeal_lifts_the_suspension(suspended, clock):
    services.suspension_appeal_open(worker=suspended, statement="I worked alone.")
    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()
    suspended.refresh_from_db()
    assert not suspended.is_suspended


def test_a_panel_without_staff_may_uphold_a_suspension(suspended, staff, clock):
    other_staff = jurors(1)[0]
    other_staff.is_staff = True
    other_staff.save(update_fields=["is_staff"])
    jurors(3)
    case = services.suspension_appeal_open(worker=suspended, statement="I worked alone.")
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=staff, action="offer", share_bps=5000)
    assert refused.value.code == "offer_not_available"
    services.case_respond(case=case, actor=staff, action="contest", text="Identical answers, same minute.")
    seated = list(Juror.objects.filter(case=case))
    assert other_staff.pk not in {j.user_id for j in seated} and len(seated) == 3
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    with pytest.raises(AppError) as refused:
        services.case_vote(case=case, juror_user=seated[0].user, share_bps=5000, reason="Half.")
    assert refused.value.code == "invalid"
    for juror in seated:
        services.case_vote(case=case, juror_user=juror.user, share_bps=0, reason="The logs are clear.")
    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    case.refresh_from_db()
    suspended.refresh_from_db()
    assert (case.state, case.outcome) == ("closed", "uphold")
    assert suspended.is_suspended and earnings(suspended) == 1000


def test_appeal_refusals(suspended, earner):
    services.suspension_appeal_open(worker=suspended, statement="First.")
    with pytest.raises(AppError) as refused:
        services.suspension_appeal_open(worker=suspended, statement="Second.")
    assert refused.value.code == "already_appealed"
    with pytest.raises(AppError) as refused:
        services.suspension_appeal_open(worker=UserFactory(), statement="Me?")
    assert refused.value.code == "not_suspended"
    assert Case.objects.count() == 1


# --- Through the staff console -------------------------------------------------------------------


def console(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_only_a_moderator_suspends_from_the_console_and_a_refusal_changes_nothing(earner):
    from core.models import AuditEvent

    before = (Case.objects.count(), AuditEvent.objects.count())
    url = f"/api/staff/people/{earner.pk}/suspend/"
    good = {"code": "fraudulent_work", "reason": "Copied answers."}
    for someone in (staff_member("verifier"), staff_member("treasurer"), UserFactory()):
        assert console(someone).post(url, good, format="json").status_code == 403
    moderator = staff_member("moderator")
    for body, code in (
        ({"code": "", "reason": "Copied answers."}, "reason_required"),
        ({"code": "made_up", "reason": "Copied answers."}, "reason_required"),
        ({"code": "fraudulent_work", "reason": "   "}, "reason_required"),
    ):
        response = console(moderator).post(url, body, format="json")
        assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    itself = console(moderator).post(f"/api/staff/people/{moderator.pk}/suspend/", good, format="json")
    assert itself.status_code == 403
    earner.refresh_from_db()
    assert not earner.is_suspended
    assert (Case.objects.count(), AuditEvent.objects.filter(action="user.suspended").count()) == (before[0], 0)


def test_suspension_journey_through_the_appeal(earner, clock, django_capture_on_commit_callbacks):
    """A moderator suspends with a published reason; the person is told and the appeal is
    already in the queue; earned money is still paid out; the worker states their case; the
    moderator contests; a panel lifts the suspension; every step is in the audit log."""
    from django.core import mail

    from core.models import AuditEvent
    from payouts import services as payout_services
    from payouts.models import Payout
    from tests.payouts.factories import VALID_IBAN

    moderator = staff_member("moderator")
    with django_capture_on_commit_callbacks(execute=True):
        response = console(moderator).post(
            f"/api/staff/people/{earner.pk}/suspend/",
            {"code": "fraudulent_work", "reason": "Identical answers within seconds."},
            format="json",
        )
    assert response.status_code == 200, response.content
    earner.refresh_from_db()
    assert earner.is_suspended and earner.suspension_code == "fraudulent_work"
    assert [m.to for m in mail.outbox] == [[earner.email]]
    assert "Identical answers within seconds." in mail.outbox[0].body
    case = Case.objects.get(kind="suspension", worker=earner)
    assert (case.state, case.respondent_id, case.statement) == (
        "awaiting_response",
        moderator.pk,
        services.AUTO_APPEAL_STATEMENT,
    )
    assert earner.has_perm("disputes.view_case", case) and moderator.has_perm("disputes.view_case", case)

    # Money already earned stays payable while suspended.
    from accounts.models import WorkerProfile

    WorkerProfile.objects.filter(user=earner).update(country="DE")
    payout_services.payout_method_set(
        user=earner,
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Earner"},
        fresh_sign_in=signed_in_now(earner),
    )
    payout = payout_services.payout_request(user=earner)
    assert Payout.objects.get(pk=payout.pk).amount == 1000

    worker_api = console(earner)
    stated = worker_api.post("/api/disputes/suspension-appeal/", {"statement": "I type fast."}, format="json")
    assert stated.status_code == 201 and stated.json()["id"] == case.pk
    jurors(3)
    services.case_respond(case=case, actor=moderator, action="contest", text="Logs attached.")
    seated = list(Juror.objects.filter(case=case))
    assert moderator.pk not in {j.user_id for j in seated} and len(seated) == 3
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    for juror in seated:
        services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Fast is not fraud.")
    clock.advance(hours=73)
    jobs.run_deadlines.delay()

    case.refresh_from_db()
    earner.refresh_from_db()
    assert (case.state, case.outcome) == ("closed", "pay_full")
    assert not earner.is_suspended and earner.suspension_code == ""
    rows = AuditEvent.objects.filter(target_type="accounts.user", target_id=str(earner.pk)).order_by("id")
    assert [(row.action, row.actor_id) for row in rows if row.action.startswith("user.suspen")] == [
        ("user.suspended", moderator.pk),
        ("user.suspension_lifted", None),
    ]
    assert rows.get(action="user.suspension_lifted").after == {"case": case.pk}


def test_a_moderator_lifts_a_suspension_with_a_reason_and_the_waiting_appeal_closes(suspended, staff):
    from core.models import AuditEvent

    case = Case.objects.get(kind="suspension", worker=suspended)
    other = staff_member("moderator")
    refused = console(staff_member("verifier")).post(
        f"/api/staff/people/{suspended.pk}/lift/", {"reason": "Mistake."}, format="json"
    )
    assert refused.status_code == 403
    empty = console(other).post(f"/api/staff/people/{suspended.pk}/lift/", {"reason": " "}, format="json")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "reason_required")
    suspended.refresh_from_db()
    assert suspended.is_suspended

    lifted = console(other).post(f"/api/staff/people/{suspended.pk}/lift/", {"reason": "Mistaken identity."})
    assert lifted.status_code == 200, lifted.content
    suspended.refresh_from_db()
    case.refresh_from_db()
    assert not suspended.is_suspended
    assert (case.state, case.resolution) == ("closed", "requester_accepted")
    row = AuditEvent.objects.get(action="user.suspension_lifted", target_id=str(suspended.pk))
    assert (row.actor_id, row.after) == (other.pk, {"reason": "Mistaken identity."})
    again = console(other).post(f"/api/staff/people/{suspended.pk}/lift/", {"reason": "Again."})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_suspended")


def test_a_suspended_worker_reads_the_published_reason_in_their_language(suspended):
    from django.test import Client
    from django.utils import translation

    page = Client()
    page.force_login(suspended)
    html = page.get("/work/profile/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Entregar repetidamente trabajo que no se hizo (bots, respuestas copiadas o al azar)." in html
    assert "Answers copied from another worker." in html  # the moderator's words, as typed
    assert "Submitting work that was not done" not in html
    with translation.override("hi"):
        assert suspended.suspension_text.startswith("बार-बार ऐसा काम जमा करना जो किया ही नहीं गया")
    # The stored reason stays English, as the audit log is.
    assert suspended.suspension_reason.startswith("Submitting work that was not done")


def test_the_suspension_and_its_lifting_are_told_in_the_workers_language(suspended, staff):
    """The notice writes the published reason in the reader's language and the moderator's
    words as typed; the stored English stays for readers from before."""
    from notifications.models import Notification
    from notifications.render import words

    notice = Notification.objects.get(user=suspended, category="suspension")
    assert notice.params["reason"] == suspended.suspension_reason
    english = words(category="suspension", params=notice.params, language="en").body
    assert english == (
        "Reason: Submitting work that was not done (bots, copied or random answers) repeatedly. "
        "Answers copied from another worker.\nYou can still withdraw your earnings, and you can appeal."
    )
    spanish = words(category="suspension", params=notice.params, language="es").body
    assert spanish == (
        "Motivo: Entregar repetidamente trabajo que no se hizo (bots, respuestas copiadas o al azar). "
        "Answers copied from another worker.\nAún puedes retirar tus ganancias y puedes apelar."
    )

    case = services.suspension_appeal_open(worker=suspended, statement="I worked alone.")
    services.case_respond(case=case, actor=staff, action="accept")
    lifted = Notification.objects.get(user=suspended, category="suspension_lifted")
    assert words(category="suspension_lifted", params=lifted.params, language="en").body == (
        f"The appeal (case {case.pk}) lifted your suspension. You can take work again."
    )
    assert words(category="suspension_lifted", params=lifted.params, language="hi").body == (
        f"अपील (मामला {case.pk}) से आपका निलंबन हटा दिया गया। आप फिर से काम ले सकते हैं।"
    )
