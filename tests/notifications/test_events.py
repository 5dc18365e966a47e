"""One test per event: the notification reaches exactly the people who may see the thing."""

from datetime import timedelta

import pytest
from django.test import TestCase

from accounts import services as account_services
from accounts.models import Organisation, User
from disputes import jobs as dispute_jobs
from disputes import services as dispute_services
from disputes.models import Case, Juror
from governance import services as governance_services
from notifications.models import Notification
from notifications.render import words
from payouts import services as payout_services
from tasks import services as task_services
from tests.disputes.factories import batch_for, jurors, rejected_work, submitted
from tests.factories import MemberFactory, OrganisationFactory, UserFactory, staff_member
from tests.governance.factories import after_close, rule_change, to_voting, vote
from tests.payouts.factories import earn, sepa_worker, treasurer

pytestmark = pytest.mark.django_db


def told(category: str) -> set[int]:
    return set(Notification.objects.filter(category=category).values_list("user_id", flat=True))


def staff_ids(organisation: Organisation) -> set[int]:
    return set(User.objects.filter(groups=organisation.staff_group).values_list("pk", flat=True))


def owner(organisation: Organisation) -> User:
    return organisation.staff.get(role="owner").user


@pytest.fixture
def bystander() -> User:
    """A member who did not opt in to jury service: may see no case."""
    return MemberFactory(membership__juror_opt_in=False)


def test_rejection_tells_the_worker_with_the_dispute_deadline(bystander) -> None:
    work = rejected_work()
    assert told("rejection") == {work.worker_id}
    entry = Notification.objects.get(category="rejection")
    assert entry.params["deadline"] == work.rejection_final_at.isoformat()
    assert entry.params["reason"] == "The label is wrong."
    assert entry.url == f"/work/assignments/{work.pk}/"


def test_a_dispute_tells_the_requester_staff_only(bystander) -> None:
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    organisation = work.batch.organisation
    assert told("dispute_opened") == staff_ids(organisation) == {owner(organisation).pk}
    entry = Notification.objects.get(category="dispute_opened")
    assert entry.organisation_id == organisation.pk and entry.url == f"/cases/{case.pk}/"
    assert entry.params["deadline"] == case.due_at.isoformat()


def _contested_case() -> tuple[Case, list[User]]:
    panel = jurors(6)
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    dispute_services.case_respond(case=case, actor=owner(case.organisation), action="contest", text="Random answers.")
    return Case.objects.get(pk=case.pk), panel


def test_drawn_jurors_are_told_and_no_other_member(bystander) -> None:
    case, _panel = _contested_case()
    seated = set(Juror.objects.filter(case=case).values_list("user_id", flat=True))
    assert len(seated) == 3
    assert told("juror_drawn") == seated
    assert bystander.pk not in told("juror_drawn")


def test_a_late_juror_is_told_of_the_replacement_and_the_new_juror_is_drawn(clock) -> None:
    case, _panel = _contested_case()
    clock.advance(hours=49)
    dispute_jobs.run_deadlines.delay()
    first, second, late = Juror.objects.filter(case=case).order_by("id")
    for juror in (first, second):
        dispute_services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Fine.")
    Notification.objects.filter(category="juror_drawn").delete()
    clock.advance(hours=72, seconds=1)
    dispute_jobs.run_deadlines.delay()
    replacement = Juror.objects.get(case=case, status=Juror.Status.SERVING)
    assert told("juror_replaced") == {late.user_id}
    assert told("juror_drawn") == {replacement.user_id}


def test_a_decision_tells_both_parties_and_nobody_else(bystander) -> None:
    work = rejected_work()
    case = dispute_services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")
    dispute_services.case_respond(case=case, actor=owner(case.organisation), action="accept")
    assert told("case_decided") == {work.worker_id} | staff_ids(case.organisation)
    decided = Notification.objects.filter(category="case_decided").first()
    assert decided.params["outcome"] == "pay_full"  # the code; the words are the reader's
    assert words(category="case_decided", params=decided.params).body == "Outcome: paid in full."
    assert "íntegramente" in words(category="case_decided", params=decided.params, language="es").body
    # A row from before the codes were stored (English words) is named in the reader's language too.
    old = {**decided.params, "outcome": "rejection upheld"}
    assert words(category="case_decided", params=old, language="es").body != "Outcome: rejection upheld."


def test_proposal_events_reach_members_only(clock) -> None:
    author, *others = [MemberFactory() for _ in range(3)]
    outsider = UserFactory()
    members = {author.pk, *(m.pk for m in others)}
    proposal = to_voting(rule_change(author, value=1300))
    assert told("proposal_discussion") == members
    assert told("proposal_voting") == members
    vote(proposal, [author, *others], "yes")
    governance_services.proposal_close(proposal_id=proposal.pk, now=after_close(proposal))
    proposal = governance_services.proposal_schedule(proposal_id=proposal.pk)
    assert told("rule_adopted") == members
    assert Notification.objects.filter(category="rule_adopted").first().params["effective"] == (
        proposal.effective_at.isoformat()
    )
    governance_services.proposal_take_effect(proposal_id=proposal.pk, now=proposal.effective_at + timedelta(seconds=1))
    assert told("rule_in_effect") == members
    assert outsider.pk not in told("proposal_voting") | told("rule_in_effect")


def test_payouts_sent_paid_and_failed_tell_their_owner_only(run_weekly_payouts) -> None:
    first, second = run_weekly_payouts
    cashier = treasurer()
    from payouts.models import SepaBatch

    batch_id = SepaBatch.objects.get().pk
    payout_services.sepa_batch_mark_sent(batch_id=batch_id, actor=cashier)
    assert told("payout_sent") == {first.user_id, second.user_id}
    payout_services.sepa_payment_mark_paid(payout_id=first.pk, actor=cashier)
    assert told("payout_paid") == {first.user_id}
    payout_services.sepa_payment_mark_failed(payout_id=second.pk, actor=cashier, reason="account closed")
    assert told("payout_failed") == {second.user_id}
    assert "account closed" in Notification.objects.get(category="payout_failed").params["reason"]


@pytest.fixture
def run_weekly_payouts():
    from payouts.jobs import run_weekly
    from payouts.models import Payout
    from tests.payouts.factories import VALID_IBAN, VALID_IBAN_2

    first = sepa_worker(iban=VALID_IBAN, name="Ana Müller")
    second = sepa_worker(iban=VALID_IBAN_2, name="Jo Dupont", country="FR")
    earn(first, 12_34)
    earn(second, 56_78)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()
    return Payout.objects.get(user=first), Payout.objects.get(user=second)


def test_a_bonus_tells_its_worker_only() -> None:
    organisation = OrganisationFactory()
    batch = batch_for(organisation, slots=2, deposit=10_000)
    worker, other = UserFactory(), UserFactory()
    mine = submitted(batch, worker)
    submitted(batch, other)
    task_services.assignment_bonus(actor=owner(organisation), assignment=mine, amount=250, reason="Careful work.")
    assert told("bonus") == {worker.pk}
    assert Notification.objects.get(category="bonus").params["amount"] == "2.50 EUR"


def test_qualification_granted_and_revoked_tell_the_worker_only() -> None:
    organisation = OrganisationFactory()
    worker = UserFactory()
    qualification = task_services.qualification_create(
        organisation=organisation, actor=owner(organisation), name="Careful labeller", description="Tested."
    )
    task_services.qualification_grant(qualification=qualification, worker=worker, actor=owner(organisation))
    assert told("qualification_granted") == {worker.pk}
    task_services.qualification_revoke(qualification=qualification, worker=worker, actor=owner(organisation))
    assert told("qualification_revoked") == {worker.pk}


def test_a_suspension_tells_the_person_and_cannot_be_unsubscribed() -> None:
    worker = UserFactory()
    staff = staff_member("moderator")
    dispute_services.user_suspend(user=worker, actor=staff, code="fraudulent_work", reason="Copied answers.")
    assert told("suspension") == {worker.pk}
    assert Notification.objects.get(category="suspension").email == "pending"


def test_verification_tells_the_organisation_staff_only() -> None:
    organisation = OrganisationFactory(verified=False)
    verifier = UserFactory(is_staff=True)
    account_services.organisation_verify(organisation=organisation, verified_by=verifier, legal_name="Lab GmbH")
    assert told("verification") == staff_ids(organisation) == {owner(organisation).pk}


def test_a_verification_decision_is_named_in_the_readers_language() -> None:
    params = {"organisation": "Acme", "decision": "more information needed", "reason": "Send the register extract."}
    assert words(category="verification", params=params).title == "Verification of Acme: more information needed"
    spanish = words(category="verification", params=params, language="es").title
    assert "se necesita más información" in spanish and "more information" not in spanish


def test_a_legal_identity_check_is_explained_in_the_readers_language() -> None:
    organisation = OrganisationFactory(verified=False)
    account_services.organisation_verify(
        organisation=organisation, verified_by=staff_member("verifier"), legal_name="Lab GmbH"
    )
    params = Notification.objects.get(category="verification").params
    assert words(category="verification", params=params).body == "Legal identity checked: Lab GmbH."
    hindi = words(category="verification", params=params, language="hi").body
    assert hindi == "कानूनी पहचान की जाँच हो गई: Lab GmbH।"
    # A notice stored before (English prose only) still reads.
    old = {"organisation": "Acme", "decision": "verified", "reason": "Legal identity checked: Acme Ltd."}
    assert words(category="verification", params=old, language="hi").body == "Legal identity checked: Acme Ltd."
