"""Play money under races, on PostgreSQL with real threads (issue 24.6): the book's row lock
and the one-to-one resolution make a reservation pay once, a top-up count once, a book open
once, and two publications never hold more than there is."""

import pytest

from tasks import play, services
from tasks.models import PlayBook, PlayTransfer
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6


def test_two_settlements_of_one_slot_pay_once() -> None:
    for _round in range(ROUNDS):
        organisation = OrganisationFactory()
        first, second = UserFactory(), UserFactory()
        key = f"race:{organisation.pk}"
        play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot(key, 100, 10)])
        outcomes = race(
            lambda: play.play_settle(key=key, worker=first), lambda: play.play_settle(key=key, worker=second)
        )
        assert sorted(outcomes) == ["escrow_already_settled", "ok"]
        assert PlayTransfer.objects.filter(pending_id=f"play:{key}").count() == 1
        assert play.play_book_check(organisation=organisation) == []


def test_a_settlement_and_a_return_of_one_slot_resolve_it_once() -> None:
    for _round in range(ROUNDS):
        organisation = OrganisationFactory()
        worker = UserFactory()
        key = f"race:{organisation.pk}"
        play.play_reserve_slots(organisation=organisation, slots=[play.PlaySlot(key, 100, 10)])
        outcomes = race(lambda: play.play_settle(key=key, worker=worker), lambda: play.play_return(key=key))
        assert sorted(outcomes) in (["escrow_returned", "ok"], ["escrow_settled", "ok"])
        book = PlayBook.objects.get(organisation=organisation)
        assert book.held == 0 and book.available + book.paid + book.fees == play.OPENING
        assert play.play_book_check(organisation=organisation) == []


def test_two_reservations_never_hold_more_than_there_is() -> None:
    for _round in range(ROUNDS):
        organisation = OrganisationFactory()
        half_and_more = play.OPENING // 2 + 1

        def reserve(name: str) -> None:
            play.play_reserve_slots(
                organisation=organisation, slots=[play.PlaySlot(f"{name}:{organisation.pk}", half_and_more, 0)]
            )

        outcomes = race(lambda: reserve("a"), lambda: reserve("b"))
        assert sorted(outcomes) == ["insufficient_play_money", "ok"]
        book = PlayBook.objects.get(organisation=organisation)
        assert (book.held, book.issued) == (half_and_more, play.OPENING)
        assert PlayTransfer.objects.filter(book=book, kind=PlayTransfer.Kind.ISSUE).count() == 1  # opened once
        assert play.play_book_check(organisation=organisation) == []


def test_one_top_up_token_counts_once() -> None:
    for _round in range(ROUNDS):
        organisation = OrganisationFactory()
        actor = organisation.staff.get().user

        def top_up() -> None:
            services.sandbox_top_up(organisation=organisation, actor=actor, amount=500_00, token="same")

        assert race(top_up, top_up) == ["ok", "ok"]
        assert play.play_balance(organisation=organisation).issued == play.OPENING + 500_00
        assert play.play_book_check(organisation=organisation) == []
