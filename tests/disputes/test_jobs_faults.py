"""The dispute procedure's periodic jobs survive a crash at every write of their steps
(issue 29): after the crash and the next tick, every case has moved exactly once, every
settlement and every juror fee is paid exactly once, and the ledger is exact.

The clock goes back to the same start for each fault point (``restart``), so the cases an
earlier point left behind never fall due again and each run meets only its own cases."""

import contextlib
from collections import Counter
from datetime import timedelta

import pytest
from django.db import OperationalError, transaction

from core.models import AuditEvent, JobItemFailure
from disputes import jobs, services
from disputes.models import Case, CaseItem, Juror
from ledger import accounts
from ledger.models import Transfer
from ledger.selectors import balance, ledger_check
from tasks.models import Assignment, Batch
from tests.disputes.factories import FEE, REWARD, Clock, batch_for, jurors, reject, rejected_work, submitted
from tests.factories import OrganisationFactory, UserFactory
from tests.faults import every_write

pytestmark = pytest.mark.django_db

# Writes of the runner's own bookkeeping (JobRun, JobItemFailure) are not steps of an item.
ITEM_WRITES = {"only": lambda sql: "core_job" not in sql}
JUROR_FEE = 300


def restart(clock: Clock) -> None:
    clock.offset = timedelta()


def retry_after(clock: Clock, job) -> None:  # type: ignore[no-untyped-def]
    clock.advance(hours=2)  # past the runner's retry delay, well before any new stage deadline
    job.delay().get()


def owner(case: Case):  # type: ignore[no-untyped-def]
    return case.organisation.staff.get(role="owner").user


def opened(work: Assignment | None = None) -> Case:
    work = work or rejected_work()
    return services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="My labels were right.")


def contested(case: Case) -> Case:
    return services.case_respond(case=case, actor=owner(case), action="contest", text="They were random.")


def seated(case: Case) -> list[Juror]:
    return list(Juror.objects.filter(case=case, round=case.round, status=Juror.Status.SERVING).select_related("user"))


def case_actions(case: Case) -> Counter[str]:
    return Counter(
        AuditEvent.objects.filter(target_type="disputes.case", target_id=str(case.pk)).values_list("action", flat=True)
    )


def earnings(user) -> int:  # type: ignore[no-untyped-def]
    return balance(accounts.worker_earnings(user)).posted


def test_every_deadline_is_acted_on_once_whatever_write_fails(clock: Clock) -> None:
    def setup() -> dict[str, Case]:
        restart(clock)
        jurors(6)
        # Decided by its panel (half the pay), then its appeal window passes: finalised and settled.
        decided = contested(opened())
        clock.advance(hours=49)
        jobs.run_deadlines.delay().get()  # evidence -> voting
        for juror in seated(decided):
            services.case_vote(case=decided, juror_user=juror.user, share_bps=5000, reason="Half was right.")
        # The requester never answers this one: the worker wins in full.
        silent = opened()
        # Evidence closes on this one: voting opens.
        evidence = contested(opened())
        clock.advance(hours=73)
        return {
            "decided": Case.objects.get(pk=decided.pk),
            "silent": Case.objects.get(pk=silent.pk),
            "evidence": Case.objects.get(pk=evidence.pk),
        }

    def check(cases: dict[str, Case]) -> None:
        assert case_actions(cases["decided"])["case.finalise"] == 1
        assert case_actions(cases["silent"])["case.lapse_response"] == 1
        assert case_actions(cases["evidence"])["case.close_evidence"] == 1
        states = {name: Case.objects.get(pk=case.pk).state for name, case in cases.items()}
        assert states == {"decided": Case.State.CLOSED, "silent": Case.State.CLOSED, "evidence": Case.State.VOTING}
        decided_work, silent_work, evidence_work = (case.items.get().assignment for case in cases.values())
        assert [earnings(decided_work.worker), earnings(silent_work.worker)] == [REWARD // 2, REWARD]
        assert [Assignment.objects.get(pk=a.pk).status for a in (decided_work, silent_work, evidence_work)] == [
            Assignment.Status.SETTLED,
            Assignment.Status.SETTLED,
            Assignment.Status.DISPUTED,
        ]
        assert set(CaseItem.objects.filter(case__in=cases.values()).values_list("state", flat=True)) == {
            CaseItem.State.EXECUTED,
            CaseItem.State.HELD,
        }
        assert ledger_check() == []
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.run_deadlines)  # noqa: E731
    assert every_write(setup=setup, run=jobs.run_deadlines.delay, retry=retry, check=check, **ITEM_WRITES) > 10


def test_a_decision_whose_fee_payment_crashes_at_any_write_pays_every_juror_once(
    clock: Clock, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The last vote decides the round and owes the fees in its transaction; the payment
    queued on its commit crashes (or the vote itself does, and the juror votes again);
    the next tick of ``pay_juror_fees`` pays each juror exactly once."""

    def setup() -> tuple[Case, list[Juror]]:
        restart(clock)
        jurors(4)
        case = contested(opened())
        clock.advance(hours=49)
        jobs.run_deadlines.delay().get()
        panel = seated(case)
        for juror in panel[:-1]:
            services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Right.")
        return case, panel

    def last_vote(case: Case, juror: Juror) -> None:
        with contextlib.suppress(OperationalError), django_capture_on_commit_callbacks() as queued:
            services.case_vote(case=case, juror_user=juror.user, share_bps=0, reason="Wrong.")
        # What the commit queued (the fee payment, the e-mails), each in its own transaction
        # as after a real commit; a crash there is the job's, never the vote's.
        for callback in queued:
            with contextlib.suppress(OperationalError), transaction.atomic():
                callback()

    state: dict[str, tuple[Case, list[Juror]]] = {}
    before: dict[int, int] = {}

    def setup_and_keep() -> tuple[Case, list[Juror]]:
        state["items"] = setup()
        # A member may have sat on an earlier fault point's case too: count from here.
        before.update({juror.user_id: earnings(juror.user) for juror in state["items"][1]})
        return state["items"]

    def run() -> None:
        case, panel = state["items"]
        last_vote(case, panel[-1])

    def retry() -> None:
        case, panel = state["items"]
        if Juror.objects.get(pk=panel[-1].pk).status == Juror.Status.SERVING:
            last_vote(case, panel[-1])  # the crash hit the vote itself: the juror votes again
        retry_after(clock, jobs.pay_juror_fees)

    def check(items: tuple[Case, list[Juror]]) -> None:
        case, panel = items
        assert case_actions(case)["case.decided"] == 1
        assert [earnings(juror.user) - before[juror.user_id] for juror in panel] == [JUROR_FEE] * 3
        ids = [f"juror-fee:case:{case.pk}:juror:{juror.pk}" for juror in panel]
        assert Transfer.objects.filter(id__in=ids).count() == 3
        assert [(j.fee_owed, j.fee_transfer_id) for j in Juror.objects.filter(case=case).order_by("id")] == list(
            zip([JUROR_FEE] * 3, ids, strict=True)
        )
        assert services.juror_fees_owed() == []
        assert ledger_check() == []
        assert not JobItemFailure.objects.exists()

    assert every_write(setup=setup_and_keep, run=run, retry=retry, check=check, **ITEM_WRITES) > 5


def test_owed_fees_are_paid_once_whatever_write_of_the_payment_fails(clock: Clock) -> None:
    before: dict[int, int] = {}

    def setup() -> list[Juror]:
        restart(clock)
        jurors(4)
        case = contested(opened())
        clock.advance(hours=49)
        jobs.run_deadlines.delay().get()
        panel = seated(case)
        for juror in panel:
            services.case_vote(case=case, juror_user=juror.user, share_bps=10_000, reason="Right.")
        assert [j.fee_owed for j in Juror.objects.filter(case=case)] == [JUROR_FEE] * 3
        before.update({juror.user_id: earnings(juror.user) for juror in panel})
        return panel

    def check(panel: list[Juror]) -> None:
        assert [earnings(juror.user) - before[juror.user_id] for juror in panel] == [JUROR_FEE] * 3
        paid = AuditEvent.objects.filter(action="case.juror_fee_paid", target_id__in=[str(j.pk) for j in panel])
        assert Counter(paid.values_list("target_id", flat=True)) == Counter({str(j.pk): 1 for j in panel})
        assert ledger_check() == []
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.pay_juror_fees)  # noqa: E731
    assert every_write(setup=setup, run=jobs.pay_juror_fees.delay, retry=retry, check=check, **ITEM_WRITES) > 2


def test_the_mass_rejection_scan_freezes_each_rejection_once_whatever_write_fails(clock: Clock) -> None:
    def setup() -> tuple[Batch, list[Assignment]]:
        organisation = OrganisationFactory()
        batch = batch_for(organisation, slots=4)
        work = [submitted(batch, UserFactory()) for _ in range(4)]
        # Three of four workers rejected: past the founding share. The on-commit check is
        # not run here (no commit in a test transaction): the scan is the safety net.
        return batch, [reject(assignment) for assignment in work[:3]]

    def check(items: tuple[Batch, list[Assignment]]) -> None:
        batch, rejected = items
        case = Case.objects.get(organisation=batch.organisation)
        assert (case.kind, case.state, case.batch_id) == (
            Case.Kind.MASS_REJECTION,
            Case.State.AWAITING_RESPONSE,
            batch.pk,
        )
        assert sorted(case.items.values_list("assignment_id", flat=True)) == [a.pk for a in rejected]
        assert [Assignment.objects.get(pk=a.pk).status for a in rejected] == [Assignment.Status.DISPUTED] * 3
        assert case_actions(case)["case.mass_rejection_frozen"] == 1
        assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PAUSED
        assert balance(accounts.org_escrow(batch.organisation)).credits_pending == 4 * (REWARD + FEE)
        assert ledger_check() == []
        assert not JobItemFailure.objects.exists()

    retry = lambda: retry_after(clock, jobs.scan_mass_rejections)  # noqa: E731
    assert every_write(setup=setup, run=jobs.scan_mass_rejections.delay, retry=retry, check=check, **ITEM_WRITES) > 5
