"""A large case is settled after it closes, chunk by chunk, each chunk one transaction;
a crash at any write of a chunk is resumed by the periodic job, every item settled once."""

import contextlib

import pytest
from django.db import OperationalError

from core.models import AuditEvent
from disputes import jobs, services
from disputes.models import Case, CaseItem
from ledger import accounts
from ledger.selectors import balance
from tasks.models import Assignment
from tests.disputes.factories import REWARD, approve, batch_for, reject, submitted
from tests.factories import OrganisationFactory, UserFactory
from tests.faults import every_write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "EXECUTE_INLINE", 1)
    monkeypatch.setattr(services, "EXECUTE_CHUNK", 2)


def accepted_mass_case(django_capture_on_commit_callbacks, *, run_jobs: bool) -> tuple[Case, list[Assignment]]:  # type: ignore[no-untyped-def]
    organisation = OrganisationFactory()
    batch = batch_for(organisation, slots=5)
    work = [submitted(batch, UserFactory()) for _ in range(5)]
    for assignment in work[:2]:
        approve(assignment)
    rejected = [reject(assignment) for assignment in work[2:]]
    case = services.mass_rejection_check(organisation_id=organisation.pk)
    assert case is not None and case.items.count() == 3
    owner = organisation.staff.get(role="owner").user
    with django_capture_on_commit_callbacks(execute=run_jobs):
        services.case_respond(case=case, actor=owner, action="accept")
    return Case.objects.get(pk=case.pk), rejected


def settled_once(case: Case, rejected: list[Assignment]) -> None:
    case.refresh_from_db()
    assert case.executed_at is not None
    assert [Assignment.objects.get(pk=a.pk).status for a in rejected] == ["settled"] * 3
    assert [balance(accounts.worker_earnings(a.worker)).posted for a in rejected] == [REWARD] * 3
    assert balance(accounts.org_escrow(case.organisation)).credits_pending == 0
    assert set(case.items.values_list("state", flat=True)) == {CaseItem.State.EXECUTED}
    assert AuditEvent.objects.filter(action="case.executed", target_id=str(case.pk)).count() == 1


def test_a_large_case_closes_at_once_and_is_settled_in_chunks_after_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    case, rejected = accepted_mass_case(django_capture_on_commit_callbacks, run_jobs=False)
    # Closed with its outcome in the answering transaction; nothing settled yet.
    assert (case.state, case.outcome_share_bps, case.executed_at) == ("closed", 10_000, None)
    assert set(case.items.values_list("state", flat=True)) == {CaseItem.State.HELD}
    assert services.case_execute_chunk(case_id=case.pk) == 2
    assert case.items.filter(state=CaseItem.State.HELD).count() == 1
    assert jobs.case_execute.delay(case.pk).get() == 1
    settled_once(case, rejected)
    assert jobs.execute_closed_cases.delay().get() == 0
    settled_once(case, rejected)


def test_the_queued_settlement_runs_after_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    case, rejected = accepted_mass_case(django_capture_on_commit_callbacks, run_jobs=True)
    settled_once(case, rejected)


def test_a_crash_at_any_write_of_a_chunk_is_resumed_and_settles_each_item_once(
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    def run(case_id: int) -> None:
        with contextlib.suppress(OperationalError):  # the injected crash; the periodic job resumes
            jobs.case_execute.delay(case_id).get()

    state: dict[str, int] = {}

    def setup() -> tuple[Case, list[Assignment]]:
        case, rejected = accepted_mass_case(django_capture_on_commit_callbacks, run_jobs=False)
        state["case"] = case.pk
        return case, rejected

    def retry() -> None:
        from core.models import JobItemFailure

        JobItemFailure.objects.all().delete()
        jobs.execute_closed_cases.delay().get()

    tried = every_write(
        setup=setup,
        run=lambda: run(state["case"]),
        retry=retry,
        check=lambda items: settled_once(*items),
        only=lambda sql: "core_job" not in sql,
    )
    assert tried > 10
