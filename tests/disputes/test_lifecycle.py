"""Every transition and every deadline of a rejection case, through the services and the
Celery jobs, with the exact ledger and rating effects of each outcome."""

import pytest

from core.errors import AppError
from disputes import jobs, services
from disputes.models import Case, Juror, Precedent
from ledger import accounts
from ledger.selectors import balance
from tasks.models import Assignment
from tasks.selectors import requester_reputation, worker_approval_rate
from tests.disputes.factories import FEE, REWARD, jurors, rejected_work

pytestmark = pytest.mark.django_db


def money(assignment: Assignment) -> dict[str, int]:
    """Where the slot's reward and fee are: requester available, escrow, worker, co-op."""
    organisation = assignment.batch.organisation
    return {
        "available": balance(accounts.org_available(organisation)).available,
        "escrow_pending": balance(accounts.org_escrow(organisation)).credits_pending,
        "worker": balance(accounts.worker_earnings(assignment.worker)).posted,
        "fees": balance(accounts.coop_fees()).posted,
    }


RESERVED = {"available": 0, "escrow_pending": REWARD + FEE, "worker": 0, "fees": 0}


def status(assignment: Assignment) -> str:
    return Assignment.objects.get(pk=assignment.pk).status


@pytest.fixture
def work() -> Assignment:
    return rejected_work()


@pytest.fixture
def case(work: Assignment) -> Case:
    return services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I followed the instructions.")


@pytest.fixture
def panel() -> list:
    return jurors(12)


def owner(case: Case):
    return case.organisation.staff.get(role="owner").user


def contest(case: Case) -> Case:
    return services.case_respond(case=case, actor=owner(case), action="contest", text="Answers were random.")


def seated(case: Case, round_number: int = 1) -> list[Juror]:
    return list(
        Juror.objects.filter(case=case, round=round_number).exclude(status=Juror.Status.REPLACED).select_related("user")
    )


def vote_all(case: Case, shares: list[int]) -> None:
    for juror, share in zip(seated(case, case.round), shares, strict=True):
        services.case_vote(case=case, juror_user=juror.user, share_bps=share, reason=f"I vote {share}.")


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- Opening ---------------------------------------------------------------------------------


def test_a_rejection_is_provisional_and_opening_holds_it(work, clock):
    assert work.status == Assignment.Status.REJECTED and work.rejection_reason and money(work) == RESERVED
    assert worker_approval_rate(worker=work.worker).final_rejections == 0

    case = services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="I did it right.")

    assert (case.kind, case.state, case.round) == ("rejection", "awaiting_response", 1)
    assert case.due_at == case.created_at + (case.due_at - case.created_at)
    assert round((case.due_at - case.created_at).total_seconds() / 3600) == 72
    assert case.rule_versions["jury_size"]["value"] == 3
    assert status(work) == "disputed"
    assert money(work) == RESERVED
    assert worker_approval_rate(worker=work.worker).final_rejections == 0


def test_opening_after_the_contest_window_is_refused_and_changes_nothing(work, clock):
    clock.advance(days=7, minutes=1)
    with pytest.raises(AppError) as refused:
        services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="Too late?")
    assert refused.value.code == "contest_window_closed"
    assert Case.objects.count() == 0 and status(work) == "rejected" and money(work) == RESERVED


@pytest.mark.parametrize(
    ("who", "statement", "code"),
    [("stranger", "Mine!", "not_found"), ("worker", "   ", "invalid")],
)
def test_opening_refusals_change_nothing(work, who, statement, code):
    from tests.factories import UserFactory

    user = UserFactory() if who == "stranger" else work.worker
    with pytest.raises(AppError) as refused:
        services.dispute_open(worker=user, assignment_id=work.pk, statement=statement)
    assert refused.value.code == code
    assert Case.objects.count() == 0 and status(work) == "rejected"


def test_a_rejection_is_disputed_only_once(case, work):
    with pytest.raises(AppError) as refused:
        services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="Again.")
    assert refused.value.code == "already_disputed"
    assert Case.objects.count() == 1


# --- The requester's answer ------------------------------------------------------------------


def test_requester_accepts_and_pays_in_full(case, work):
    services.case_respond(case=case, actor=owner(case), action="accept")

    case = reload(case)
    assert (case.state, case.outcome, case.outcome_share_bps, case.resolution) == (
        "closed",
        "pay_full",
        10_000,
        "requester_accepted",
    )
    assert case.executed_at is not None
    assert status(work) == "settled"
    assert money(work) == {"available": 0, "escrow_pending": 0, "worker": REWARD, "fees": FEE}
    rate = worker_approval_rate(worker=work.worker)
    assert (rate.final_rejections, rate.rate_bps) == (0, 10_000)
    # The overturned rejection counts on the requester's public profile.
    assert requester_reputation(organisation=case.organisation)["overturned_rejections"] == 1
    # Nothing for a panel to publish: no panel decided it.
    assert Precedent.objects.count() == 0


def test_requester_silence_past_the_deadline_means_the_worker_wins(case, work, clock):
    clock.advance(hours=71)
    jobs.run_deadlines.delay()
    assert reload(case).state == Case.State.AWAITING_RESPONSE

    clock.advance(hours=1, seconds=1)
    jobs.run_deadlines.delay()

    case = reload(case)
    assert (case.state, case.resolution, case.outcome) == ("closed", "requester_silent", "pay_full")
    assert money(work) == {"available": 0, "escrow_pending": 0, "worker": REWARD, "fees": FEE}
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=owner(case), action="contest", text="Late.")
    assert refused.value.code == "invalid_state"


def test_a_response_after_the_deadline_is_refused_before_the_job_runs(case, work, clock):
    clock.advance(hours=73)
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=owner(case), action="contest", text="Late.")
    assert refused.value.code == "response_deadline_passed"
    assert reload(case).state == Case.State.AWAITING_RESPONSE and money(work) == RESERVED


def test_a_partial_offer_accepted_pays_that_share(case, work):
    services.case_respond(case=case, actor=owner(case), action="offer", share_bps=5000, text="Half was fine.")
    assert reload(case).state == Case.State.OFFER_MADE

    services.case_offer_answer(case=case, worker=work.worker, accept=True)

    case = reload(case)
    assert (case.state, case.outcome, case.outcome_share_bps, case.resolution) == (
        "closed",
        "pay_partial",
        5000,
        "offer_accepted",
    )
    assert money(work) == {"available": (REWARD + FEE) // 2, "escrow_pending": 0, "worker": 500, "fees": 50}
    assert status(work) == "settled"
    assert worker_approval_rate(worker=work.worker).final_rejections == 0


def test_an_offer_declined_goes_to_a_panel(case, work, panel):
    services.case_respond(case=case, actor=owner(case), action="offer", share_bps=2000)
    services.case_offer_answer(case=case, worker=work.worker, accept=False)
    case = reload(case)
    assert case.state == Case.State.EVIDENCE and len(seated(case)) == 3
    assert money(work) == RESERVED


def test_an_offer_the_worker_leaves_unanswered_goes_to_a_panel(case, work, panel, clock):
    services.case_respond(case=case, actor=owner(case), action="offer", share_bps=2000)
    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()
    assert reload(case).state == Case.State.EVIDENCE and len(seated(case)) == 3


@pytest.mark.parametrize("share", [0, 10_000])
def test_an_offer_must_be_partial(case, share):
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=owner(case), action="offer", share_bps=share)
    assert refused.value.code == "invalid"
    assert reload(case).state == Case.State.AWAITING_RESPONSE and reload(case).offer_share_bps is None


def test_only_the_requesters_staff_answer(case, work):
    with pytest.raises(AppError) as refused:
        services.case_respond(case=case, actor=work.worker, action="accept")
    assert refused.value.code == "permission_denied"
    assert reload(case).state == Case.State.AWAITING_RESPONSE and money(work) == RESERVED


def test_contesting_without_eligible_jurors_changes_nothing(case, work):
    with pytest.raises(AppError) as refused:
        contest(case)
    assert refused.value.code == "no_eligible_jurors"
    case = reload(case)
    assert case.state == Case.State.AWAITING_RESPONSE and case.response_text == "" and not case.draws.exists()


# --- Panel, evidence, votes, decision --------------------------------------------------------


def test_the_full_panel_path_to_an_upheld_rejection(case, work, panel, clock):
    contest(case)
    case = reload(case)
    assert case.state == Case.State.EVIDENCE
    assert [j.label for j in seated(case)] == ["Juror 1", "Juror 2", "Juror 3"]
    services.case_add_evidence(case=case, actor=work.worker, text="Screenshot of my answers.")
    services.case_add_evidence(case=case, actor=owner(case), text="The gold answer was dog.")
    assert list(case.evidence.values_list("side", flat=True)) == ["worker", "requester"]

    clock.advance(hours=48, seconds=1)
    jobs.run_deadlines.delay()
    case = reload(case)
    assert case.state == Case.State.VOTING
    with pytest.raises(AppError) as refused:
        services.case_add_evidence(case=case, actor=work.worker, text="One more thing.")
    assert refused.value.code == "invalid_state"

    vote_all(case, [0, 0, 2500])
    case = reload(case)
    assert (case.state, case.outcome, case.outcome_share_bps) == ("decided", "uphold", 0)
    # Decided but not final: the escrow waits for the appeal window.
    assert money(work) == RESERVED and status(work) == "disputed"
    fee = 300
    # The decision owes each juror the fee; the job queued on its commit pays it, once.
    assert [(j.fee_owed, j.fee_transfer_id) for j in seated(case)] == [(fee, "")] * 3
    assert jobs.pay_juror_fees.delay().get() == 3
    assert jobs.pay_juror_fees.delay().get() == 0
    for juror in seated(case):
        assert balance(accounts.worker_earnings(juror.user)).posted == fee
    assert balance(accounts.coop_juror_fees()).posted == -3 * fee

    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()

    case = reload(case)
    assert (case.state, case.resolution) == ("closed", "panel")
    assert status(work) == "refunded"
    assert money(work) == {"available": REWARD + FEE, "escrow_pending": 0, "worker": 0, "fees": 0}
    assert worker_approval_rate(worker=work.worker).final_rejections == 1
    assert requester_reputation(organisation=case.organisation)["overturned_rejections"] == 0
    precedent = Precedent.objects.get(case=case)
    assert (precedent.outcome, precedent.share_bps, precedent.rejection_reason) == (
        "uphold",
        0,
        "did_not_follow_instructions",
    )
    assert sorted(r["reason"] for r in precedent.juror_reasons) == ["I vote 0.", "I vote 0.", "I vote 2500."]
    # Executed exactly once: the job again does nothing.
    jobs.run_deadlines.delay()
    assert money(work) == {"available": REWARD + FEE, "escrow_pending": 0, "worker": 0, "fees": 0}


def test_a_panel_that_pays_in_part_uses_the_median_vote(case, work, panel, clock):
    contest(case)
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    vote_all(case, [10_000, 2000, 6000])
    assert reload(case).outcome_share_bps == 6000
    clock.advance(hours=73)
    jobs.run_deadlines.delay()
    assert money(work) == {"available": 440, "escrow_pending": 0, "worker": 600, "fees": 60}
    assert status(work) == "settled"
    assert worker_approval_rate(worker=work.worker).final_rejections == 0


def test_votes_are_sealed_and_cannot_change(case, panel, clock):
    contest(case)
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    first = seated(case)[0]
    services.case_vote(case=case, juror_user=first.user, share_bps=0, reason="Random answers.")
    with pytest.raises(AppError) as refused:
        services.case_vote(case=case, juror_user=first.user, share_bps=10_000, reason="Changed my mind.")
    assert refused.value.code == "already_voted"
    assert first.vote.share_bps == 0 and reload(case).state == Case.State.VOTING


def test_voting_before_the_evidence_closes_is_refused(case, panel):
    contest(case)
    with pytest.raises(AppError) as refused:
        services.case_vote(case=case, juror_user=seated(case)[0].user, share_bps=0, reason="Early.")
    assert refused.value.code == "invalid_state"
    assert not Juror.objects.filter(case=case, status=Juror.Status.VOTED).exists()


def test_a_juror_who_does_not_vote_in_time_is_replaced(case, work, panel, clock):
    contest(case)
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    first, second, late = seated(case)
    services.case_vote(case=case, juror_user=first.user, share_bps=10_000, reason="Fine work.")
    services.case_vote(case=case, juror_user=second.user, share_bps=10_000, reason="Fine work.")

    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()

    case = reload(case)
    late.refresh_from_db()
    assert late.status == Juror.Status.REPLACED and not late.user.has_perm("disputes.view_case", case)
    replacement = Juror.objects.get(case=case, status=Juror.Status.SERVING)
    assert replacement.label == "Juror 4" and replacement.user_id not in {first.user_id, second.user_id, late.user_id}
    assert replacement.user.has_perm("disputes.view_case", case)
    assert case.state == Case.State.VOTING and case.draws.filter(purpose="replacement").count() == 1
    with pytest.raises(AppError):
        services.case_vote(case=case, juror_user=late.user, share_bps=0, reason="Sorry I'm late.")

    services.case_vote(case=case, juror_user=replacement.user, share_bps=10_000, reason="Fine.")
    assert reload(case).state == Case.State.DECIDED
    assert jobs.pay_juror_fees.delay().get() == 3
    # The late juror completed nothing and is paid nothing.
    assert balance(accounts.worker_earnings(late.user)).posted == 0
    assert balance(accounts.worker_earnings(replacement.user)).posted == 300


def test_with_nobody_left_to_draw_the_round_is_decided_on_the_votes_cast(case, work, clock):
    pool = jurors(3)
    contest(case)
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    voter = next(j for j in seated(case) if j.user in pool)
    services.case_vote(case=case, juror_user=voter.user, share_bps=10_000, reason="Good.")
    clock.advance(hours=72, seconds=1)
    jobs.run_deadlines.delay()
    case = reload(case)
    assert (case.state, case.outcome_share_bps) == ("decided", 10_000)


# --- Appeal ------------------------------------------------------------------------------------


def decided(case: Case, clock, shares: list[int]) -> Case:
    contest(case)
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    vote_all(case, shares)
    return reload(case)


def test_an_appeal_goes_to_a_larger_fresh_panel_once(case, work, panel, clock):
    case = decided(case, clock, [0, 0, 0])
    first_panel = {j.user_id for j in seated(case, 1)}

    services.case_appeal(case=case, actor=work.worker, reason="They never read my answers.")

    case = reload(case)
    assert (case.state, case.round, case.appealed_by, case.outcome) == ("evidence", 2, "worker", "")
    second_panel = {j.user_id for j in seated(case, 2)}
    assert len(second_panel) == 5 and not first_panel & second_panel
    assert [j.label for j in seated(case, 2)] == [f"Juror {n}" for n in range(4, 9)]

    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    vote_all(case, [10_000, 10_000, 10_000, 0, 5000])

    case = reload(case)
    assert (case.state, case.resolution, case.outcome, case.outcome_share_bps) == (
        "closed",
        "appeal_panel",
        "pay_full",
        10_000,
    )
    assert status(work) == "settled"
    assert money(work) == {"available": 0, "escrow_pending": 0, "worker": REWARD, "fees": FEE}
    assert Precedent.objects.get(case=case).appealed is True
    assert len(Precedent.objects.get(case=case).juror_reasons) == 8
    # Eight jurors each completed their round and were paid once.
    jobs.pay_juror_fees.delay()
    assert balance(accounts.coop_juror_fees()).posted == -8 * 300


def test_the_requester_may_appeal_but_not_twice(case, work, panel, clock):
    case = decided(case, clock, [10_000, 10_000, 0])
    services.case_appeal(case=case, actor=owner(case), reason="The answers were copied.")
    clock.advance(hours=49)
    jobs.run_deadlines.delay()
    vote_all(reload(case), [0, 0, 0, 0, 0])
    case = reload(case)
    assert (case.state, case.outcome) == ("closed", "uphold")
    with pytest.raises(AppError) as refused:
        services.case_appeal(case=case, actor=work.worker, reason="Again.")
    assert refused.value.code == "appeal_not_available"
    assert money(work) == {"available": REWARD + FEE, "escrow_pending": 0, "worker": 0, "fees": 0}


def test_an_appeal_after_the_window_is_refused(case, work, panel, clock):
    case = decided(case, clock, [0, 0, 0])
    clock.advance(hours=72, seconds=1)
    with pytest.raises(AppError) as refused:
        services.case_appeal(case=case, actor=work.worker, reason="Late appeal.")
    assert refused.value.code == "appeal_window_closed"
    case = reload(case)
    assert (case.state, case.round) == ("decided", 1) and money(work) == RESERVED


def test_without_a_dispute_the_rejection_becomes_final_after_the_window_and_a_disputed_one_is_held(clock):
    from tasks import jobs as task_jobs

    undisputed = rejected_work()
    disputed = rejected_work()
    services.dispute_open(worker=disputed.worker, assignment_id=disputed.pk, statement="Mine was right.")

    clock.advance(days=7, seconds=1)
    task_jobs.finalise_rejections.delay()

    assert status(undisputed) == "refunded"
    assert money(undisputed) == {"available": REWARD + FEE, "escrow_pending": 0, "worker": 0, "fees": 0}
    assert worker_approval_rate(worker=undisputed.worker).final_rejections == 1
    assert status(disputed) == "disputed" and money(disputed) == RESERVED
