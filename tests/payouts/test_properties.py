"""Property: whatever sequence of earnings, requests, payments, failures and bank
returns happens, the ledger stays consistent and every cent is accounted for."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import AppError
from ledger import accounts
from ledger.escrow import bonus_pay
from ledger.selectors import balance, ledger_check
from payouts import selectors, services
from payouts.models import Payout
from tests.ledger.factories import fund
from tests.payouts.factories import sepa_worker

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(min_value=1, max_value=50_00)),
    st.tuples(st.just("request"), st.integers(min_value=1, max_value=60_00)),
    st.tuples(st.sampled_from(["pay", "fail"]), st.integers(min_value=0, max_value=10)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_every_cent_is_accounted_for(organisation, operations) -> None:
    worker = sepa_worker()
    fund(organisation, 10_000_00)
    earned = 0
    for name, value in operations:
        if name == "earn":
            bonus_pay(organisation=organisation, worker=worker, amount=value, key=f"prop:{next(_keys)}")
            earned += value
        elif name == "request":
            available = balance(accounts.worker_earnings(worker)).available
            try:
                services.payout_request(user=worker, amount=value)
            except AppError as error:
                expected = "amount_above_balance" if value > available else "amount_below_floor"
                assert error.code == expected
                assert balance(accounts.worker_earnings(worker)).available == available
        else:
            payouts = list(Payout.objects.filter(user=worker).order_by("id"))
            if not payouts:
                continue
            payout = payouts[value % len(payouts)]
            if name == "pay":
                try:
                    services.payout_pay(payout_id=payout.pk)
                except AppError as error:
                    assert error.code == "invalid_state" and payout.state == Payout.State.FAILED
            else:  # a failure, or a bank return when it was already paid
                services.payout_fail(
                    payout_id=payout.pk, code="test", reason="sepa_bank_returned", detail="returned in a test"
                )
        figures = balance(accounts.worker_earnings(worker))
        paid = sum(Payout.objects.filter(user=worker, state=Payout.State.PAID).values_list("amount", flat=True))
        on_the_way = sum(
            Payout.objects.filter(user=worker, state__in=[Payout.State.CREATED, Payout.State.SUBMITTED]).values_list(
                "amount", flat=True
            )
        )
        assert figures.available >= 0
        assert figures.debits_pending == on_the_way
        assert figures.available + on_the_way + paid == earned
        assert selectors.worker_statement(user=worker).closing_balance == figures.available
    assert ledger_check() == []
