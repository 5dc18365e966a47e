"""The sandbox's play money (issue 24.6, ``tasks.play``): a tracked balance per organisation
that sandbox batches reserve, pay and return through the one seam (``tasks.books``), topped
up for free, never in the ledger; nothing paid twice, nothing lost, refusals write nothing."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Organisation, User
from accounts.services import organisation_staff_add
from core.errors import AppError
from core.models import AuditEvent
from ledger.models import Account, Transfer
from tasks import play, services
from tasks.models import Assignment, Batch, PlayBook, PlayTransfer
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.factories import available, make_batch

pytestmark = pytest.mark.django_db


def _tester(organisation: Organisation, owner: User) -> User:
    user = UserFactory()
    organisation_staff_add(organisation=organisation, user=user, actor=owner)
    return user


def _figures(organisation: Organisation) -> tuple[int, int, int, int, int]:
    book = play.play_balance(organisation=organisation)
    return book.available, book.held, book.paid, book.fees, book.issued


def test_sandbox_work_moves_play_money_and_never_the_ledger(organisation: Organisation, requester: User, clock) -> None:  # type: ignore[no-untyped-def]
    tester = _tester(organisation, requester)
    ledger_rows = (Transfer.objects.count(), Account.objects.count())
    assert _figures(organisation) == (play.OPENING, 0, 0, 0, play.OPENING)  # before any use: nothing stored
    assert not PlayBook.objects.exists()

    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=requester)
    slots = batch.tasks.count() * batch.assignments_per_task  # 2 tasks x 2 workers
    cost = batch.reward + batch.fee_per_assignment  # 0.50 + 0.05
    assert _figures(organisation) == (play.OPENING - slots * cost, slots * cost, 0, 0, play.OPENING)

    first = services.assignment_accept(worker=tester, batch=batch)
    services.assignment_submit(worker=tester, assignment=first, answers={"answer": "yes"})
    approved = services.assignment_approve(actor=requester, assignment=first)
    services.assignment_bonus(actor=requester, assignment=approved, amount=30, reason="Thanks")
    second = services.assignment_accept(worker=tester, batch=batch)
    services.assignment_submit(worker=tester, assignment=second, answers={"answer": "no"})
    services.assignment_reject(actor=requester, assignment=second, reason="incomplete", text="Testing a rejection.")
    # The rejection lapses (no dispute in the sandbox): its play money returns.
    clock.advance(days=batch.rule("contest_window_days"), hours=1)
    assert services.assignment_rejection_lapse(assignment=second)
    services.batch_cancel(batch=batch, actor=requester)  # the two open slots return

    assert _figures(organisation) == (
        play.OPENING - batch.reward - batch.fee_per_assignment - 30,
        0,
        batch.reward + 30,
        batch.fee_per_assignment,
        play.OPENING,
    )
    assert play.play_paid_by_tester(organisation=organisation) == [(tester, batch.reward + 30)]
    assert play.play_book_check(organisation=organisation) == []
    assert (Transfer.objects.count(), Account.objects.count()) == ledger_rows
    assert available(organisation) == 0  # the real balance never moved


def test_publishing_without_enough_play_money_is_refused_until_topped_up(
    organisation: Organisation, requester: User
) -> None:
    # Earlier sandbox work holds 440.00 of the 10,000.00.
    big = make_batch(organisation, sandbox=True, reward=100_00, estimated_minutes=60, time_allotted_minutes=60)
    services.batch_publish(batch=big, actor=requester)  # 4 slots x 110.00 = 440.00
    spent = play.OPENING - play.play_balance(organisation=organisation).available
    assert spent == 4 * 110_00

    costly = make_batch(organisation, sandbox=True, reward=50_00, assignments_per_task=100, estimated_minutes=60,
                        time_allotted_minutes=60)  # fmt: skip
    book_before = PlayBook.objects.values().get()
    transfers_before = PlayTransfer.objects.count()
    with pytest.raises(AppError) as refused:
        services.batch_publish(batch=costly, actor=requester)  # 200 slots x 55.00 = 11,000.00
    assert refused.value.code == "insufficient_play_money" and refused.value.status_code == 409
    assert "Top up play money" in refused.value.message
    assert refused.value.details["needed"] == 200 * 55_00
    costly.refresh_from_db()
    assert costly.status == Batch.Status.DRAFT and not Assignment.objects.filter(batch=costly).exists()
    assert PlayBook.objects.values().get() == book_before and PlayTransfer.objects.count() == transfers_before

    services.sandbox_top_up(organisation=organisation, actor=requester, amount=play.MAX_TOP_UP, token="t1")
    published = services.batch_publish(batch=costly, actor=requester)
    assert published.status == Batch.Status.PUBLISHED
    assert play.play_balance(organisation=organisation).held == 4 * 110_00 + 200 * 55_00
    assert play.play_book_check(organisation=organisation) == []


def test_a_top_up_is_once_per_token_bounded_and_audited(organisation: Organisation, requester: User) -> None:
    first = services.sandbox_top_up(organisation=organisation, actor=requester, amount=500_00, token="abc")
    again = services.sandbox_top_up(organisation=organisation, actor=requester, amount=500_00, token="abc")
    assert first.pk == again.pk
    assert play.play_balance(organisation=organisation).available == play.OPENING + 500_00
    with pytest.raises(AppError) as reused:
        services.sandbox_top_up(organisation=organisation, actor=requester, amount=1, token="abc")
    assert reused.value.code == "token_reused"
    book_before = PlayBook.objects.values().get()
    for amount in (0, -5, play.MAX_TOP_UP + 1):
        with pytest.raises(AppError) as refused:
            services.sandbox_top_up(organisation=organisation, actor=requester, amount=amount, token=f"x{amount}")
        assert refused.value.code == "invalid" and "amount" in refused.value.fields
    with pytest.raises(AppError):
        services.sandbox_top_up(organisation=organisation, actor=requester, amount=1, token="")
    # Past the most a sandbox may hold available.
    for number in range((play.MAX_AVAILABLE - play.OPENING - 500_00) // play.MAX_TOP_UP):
        services.sandbox_top_up(organisation=organisation, actor=requester, amount=play.MAX_TOP_UP, token=f"n{number}")
    book_before = PlayBook.objects.values().get()
    with pytest.raises(AppError) as too_much:
        services.sandbox_top_up(organisation=organisation, actor=requester, amount=play.MAX_TOP_UP, token="last")
    assert "at most" in too_much.value.message
    assert PlayBook.objects.values().get() == book_before
    # A stranger may not.
    with pytest.raises(AppError):
        services.sandbox_top_up(organisation=organisation, actor=UserFactory(), amount=100, token="s")
    assert AuditEvent.objects.filter(action="sandbox.topped_up", target_id=str(organisation.pk)).count() == (
        1 + (play.MAX_AVAILABLE - play.OPENING - 500_00) // play.MAX_TOP_UP
    )
    assert play.play_book_check(organisation=organisation) == []


def test_each_reservation_resolves_exactly_once(organisation: Organisation, requester: User) -> None:
    tester, other = UserFactory(), UserFactory()
    play.play_reserve_slots(
        organisation=organisation, slots=[play.PlaySlot("k:1", 100, 10), play.PlaySlot("k:2", 100, 10)]
    )
    play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot("k:1", 100, 10)])  # a repeat: nothing
    with pytest.raises(AppError) as reused:
        play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot("k:1", 200, 20)])
    assert reused.value.code == "transfer_id_reused"
    assert _figures(organisation)[:2] == (play.OPENING - 220, 220)

    play.play_settle(key="k:1", worker=tester)
    play.play_settle(key="k:1", worker=tester)  # the same again: a no-op
    with pytest.raises(AppError) as other_worker:
        play.play_settle(key="k:1", worker=other)
    assert other_worker.value.code == "escrow_already_settled"
    with pytest.raises(AppError) as settled:
        play.play_return(key="k:1")
    assert settled.value.code == "escrow_settled"

    play.play_return(key="k:2")
    play.play_return(key="k:2")
    with pytest.raises(AppError) as returned:
        play.play_settle(key="k:2", worker=tester)
    assert returned.value.code == "escrow_returned"
    with pytest.raises(AppError) as returned_many:
        play.play_settle_many(items=[("k:2", tester)])
    assert returned_many.value.code == "escrow_returned"
    with pytest.raises(AppError) as unknown:
        play.play_settle(key="k:3", worker=tester)
    assert unknown.value.code == "escrow_not_found"

    play.play_bonus(organisation=organisation, worker=tester, amount=25, key="b1")
    play.play_bonus(organisation=organisation, worker=tester, amount=25, key="b1")
    with pytest.raises(AppError):
        play.play_bonus(organisation=organisation, worker=tester, amount=26, key="b1")

    assert play.play_status(["k:1", "k:2", "k:3"]) == {"k:1": "posted", "k:2": "voided"}
    assert _figures(organisation) == (play.OPENING - 110 - 25, 0, 125, 10, play.OPENING)
    assert PlayTransfer.objects.filter(kind=PlayTransfer.Kind.POST).count() == 1
    assert PlayTransfer.objects.filter(kind=PlayTransfer.Kind.BONUS).count() == 1
    assert play.play_book_check(organisation=organisation) == []


def test_a_partial_share_returns_the_rest(organisation: Organisation) -> None:
    tester = UserFactory()
    play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot("p:1", 100, 10)])
    play.play_settle(key="p:1", worker=tester, share_bps=5_000)
    assert _figures(organisation) == (play.OPENING - 55, 0, 50, 5, play.OPENING)
    assert play.play_book_check(organisation=organisation) == []


def test_the_database_keeps_the_book_balanced(organisation: Organisation) -> None:
    play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot("d:1", 100, 10)])
    book = PlayBook.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayBook.objects.filter(pk=book.pk).update(available=F("available") + 1)  # money from nowhere
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayBook.objects.filter(pk=book.pk).update(available=F("available") - play.OPENING, paid=play.OPENING)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayTransfer.objects.create(id="play:bad", book=book, kind=PlayTransfer.Kind.POST, amount=1)  # no reservation


def test_bulk_approval_and_auto_approval_pay_play_money_once(
    organisation: Organisation, requester: User, clock
) -> None:  # type: ignore[no-untyped-def]
    from tasks import jobs

    tester = _tester(organisation, requester)
    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=requester)
    done = []
    for _ in range(3):
        slot = services.assignment_accept(worker=tester if not done else _tester(organisation, requester), batch=batch)
        services.assignment_submit(worker=slot.worker, assignment=slot, answers={"answer": "yes"})  # type: ignore[arg-type]
        done.append(slot)
    services.assignments_approve_many(actor=requester, batch=batch, assignment_ids=[done[0].pk, done[1].pk])
    clock.advance(hours=batch.effective_auto_approval_hours + 1)
    jobs.auto_approve()
    assert Assignment.objects.filter(batch=batch, status=Assignment.Status.APPROVED).count() == 3
    cost = batch.reward + batch.fee_per_assignment
    _available, held, paid, fees, _issued = _figures(organisation)
    assert (held, paid, fees) == (cost, 3 * batch.reward, 3 * batch.fee_per_assignment)
    assert PlayTransfer.objects.filter(kind=PlayTransfer.Kind.POST).count() == 3
    assert play.play_book_check(organisation=organisation) == []


def test_a_sandbox_slot_published_before_the_book_still_reviews(organisation: Organisation, requester: User) -> None:
    """Sandbox batches published before the play-money book reserved nothing: their slots
    read their state from their status and move no play money (nothing was held)."""
    tester = _tester(organisation, requester)
    batch = services.batch_publish(batch=make_batch(organisation, sandbox=True), actor=requester)
    slot = services.assignment_accept(worker=tester, batch=batch)
    services.assignment_submit(worker=tester, assignment=slot, answers={"answer": "yes"})
    # A slot like an older sandbox batch's: no reservation of it in the book.
    legacy = Assignment.objects.create(
        batch=batch,
        task=slot.task,
        status=Assignment.Status.SUBMITTED,
        worker=UserFactory(),
        submitted_at=timezone.now(),
        auto_approve_at=timezone.now() + timedelta(days=1),
    )
    organisation_staff_add(organisation=organisation, user=legacy.worker, actor=requester)  # type: ignore[arg-type]
    before = _figures(organisation)
    services.assignment_approve(actor=requester, assignment=legacy)
    assert _figures(organisation) == before
    legacy.refresh_from_db()
    assert legacy.status == Assignment.Status.APPROVED


operations = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(1, 4), st.integers(1, 50_000)),
        st.tuples(st.just("settle"), st.integers(0, 20), st.integers(1, 10_000)),
        st.tuples(st.just("return"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("bonus"), st.integers(1, 300_000), st.integers(0, 3)),
        st.tuples(st.just("top_up"), st.integers(1, play.MAX_TOP_UP), st.integers(0, 3)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_any_sequence_of_moves_keeps_the_book_right(steps: list[tuple[str, int, int]]) -> None:
    """Whatever happens, in whatever order, with refusals among it: the totals equal the sum
    of the transfers, none is negative, everything issued is accounted for, and each
    reservation is resolved at most once."""
    organisation = OrganisationFactory()
    actor = organisation.staff.get().user
    tester = UserFactory()
    keys: list[str] = []
    for number, (kind, first, second) in enumerate(steps):
        try:
            if kind == "reserve":
                new = [play.PlaySlot(f"o{organisation.pk}:{number}:{n}", second, second // 10) for n in range(first)]
                play.play_reserve_slots(organisation=organisation, slots=new)
                keys.extend(slot.key for slot in new)
            elif kind == "settle" and keys:
                play.play_settle(key=keys[first % len(keys)], worker=tester, share_bps=second)
            elif kind == "return" and keys:
                play.play_return(key=keys[first % len(keys)])
            elif kind == "bonus":
                play.play_bonus(
                    organisation=organisation, worker=tester, amount=first, key=f"o{organisation.pk}:{second}"
                )
            elif kind == "top_up":
                services.sandbox_top_up(organisation=organisation, actor=actor, amount=first, token=str(second))
        except AppError:
            pass
        assert play.play_book_check(organisation=organisation) == []
    book = play.play_balance(organisation=organisation)
    assert min(book.available, book.held, book.paid, book.fees) >= 0
    assert book.issued == book.available + book.held + book.paid + book.fees
    statuses = play.play_status(keys)
    assert (
        sum(
            row.amount
            for row in PlayTransfer.objects.filter(book__organisation=organisation, kind=PlayTransfer.Kind.RESERVE)
            if statuses[row.pk.removeprefix("play:")] == "pending"
        )
        == book.held
    )
