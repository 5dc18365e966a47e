"""Wise's fee is inside the quote's ``sourceAmount`` (Wise debits the source amount and
converts what is left after its fee); every other rail's fee comes on top of the amount.
These tests hold the Wise rail to the platform's meaning of a quote: ``amount`` reaches
the worker converted, ``amount + fee`` is what leaves the co-op's Wise balance, and the
ledger's ``external_wise`` account is credited exactly what Wise debits.

The fake Wise (tests/fakes/wise_api.py) prices like Wise: fee = 0.65% + 0.45 of the
source amount, target = (source - fee) * rate, with PKR at 301.40 per euro."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db.models import Q
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from ledger import accounts
from ledger.models import Account, Transfer
from ledger.selectors import balance, ledger_check
from payouts import services
from payouts.models import Payout, PayoutMethod, PayoutQuote
from payouts.rails import wise_client
from payouts.rails.wise import QUOTE_ATTEMPTS, WiseRail
from tests.fakes import wise_api
from tests.fakes.wise_api import RATES, FakeWise
from tests.payouts.factories import destination_settled, earn, signed_in_now, worker_in

pytestmark = pytest.mark.django_db

EARNINGS = Account.Kind.WORKER_EARNINGS
FEES = Account.Kind.COOP_PAYOUT_FEES
WISE = Account.Kind.EXTERNAL_WISE


def _workers_bear_fees() -> None:
    from governance.models import Rule, RuleVersion

    rule = Rule.objects.get(key="payout_fee_workers_bear")
    RuleVersion.objects.create(rule=rule, value=1, effective_at=timezone.now() - timedelta(seconds=1))
    cache.clear()  # the rule reader caches versions; a vote would append through governance


def _pakistani_worker() -> User:
    user = worker_in("PK")
    services.payout_method_set(
        user=user,
        rail="wise",
        details={"account_holder": "Ayesha Khan", "iban": "PK36SCBL0000001123456702"},
        fresh_sign_in=signed_in_now(user),
    )
    destination_settled(user)
    return user


def _minor(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def _confirm(user: User, quote: PayoutQuote) -> Payout:
    with TestCase.captureOnCommitCallbacks(execute=True):
        payout = services.payout_request(user=user, quote_id=quote.pk)
    payout.refresh_from_db()
    return payout


def _settle(fake_wise: FakeWise, payout: Payout, state: str) -> Payout:
    fake_wise.transfer_set(payout.rail_reference, state)
    headers, body = fake_wise.webhook(payout.rail_reference, state)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = APIClient().generic("POST", "/webhooks/wise/", body, content_type="application/json", **extra)
    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    return payout


def _lines(payout: Payout) -> list[tuple[str, str, str, str, int]]:
    """The payout's ledger lines: id, kind, debited account, credited account, amount."""
    prefix = payout.ledger_pending_id
    found = Transfer.objects.filter(Q(pk=prefix) | Q(pk__startswith=f"{prefix}:")).select_related(
        "debit_account", "credit_account"
    )
    return sorted(
        (t.pk.removeprefix(prefix) or "-", t.kind, t.debit_account.kind, t.credit_account.kind, t.amount) for t in found
    )


def _wise_debited(fake_wise: FakeWise) -> int:
    """What Wise took from the co-op's balance: the source value of every funded transfer."""
    return sum(_minor(fake_wise.transfers[t]["sourceValue"]) for t in fake_wise.funded)


def test_the_coop_bears_wises_fee_on_top_and_the_worker_receives_their_whole_payout(fake_wise) -> None:
    user = _pakistani_worker()
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    # 50.00 reaches the worker converted whole; the fee of 50.78 (0.78) is on top.
    assert (quote.fee_bearer, quote.amount, quote.fee) == ("coop", 50_00, 78)
    assert (quote.destination_amount, quote.destination_currency) == (15_070_00, "PKR")
    wise_quote = fake_wise.quotes[quote.reference]
    assert _minor(wise_quote["sourceAmount"]) == quote.amount + quote.fee
    assert _minor(wise_quote["paymentOptions"][0]["fee"]["total"]) == quote.fee
    assert _minor(wise_quote["targetAmount"]) == quote.destination_amount

    payout = _confirm(user, quote)
    transfer = fake_wise.transfers[payout.rail_reference]
    assert _minor(transfer["targetValue"]) == payout.destination_amount == 15_070_00
    payout = _settle(fake_wise, payout, "outgoing_payment_sent")
    assert (payout.state, payout.arrived_amount) == (Payout.State.PAID, 15_070_00)
    assert _lines(payout) == [
        ("-", "pending", EARNINGS, WISE, 50_00),
        (":fee", "posted", FEES, WISE, 78),
        (":post", "post_pending", EARNINGS, WISE, 50_00),
    ]
    assert balance(accounts.worker_earnings(user)).available == 0
    # The ledger's Wise account was credited exactly what Wise debited: the fee once.
    assert balance(accounts.external_wise()).credits_posted == _wise_debited(fake_wise) == 50_78
    assert balance(accounts.coop_payout_fees()).debits_posted == 78
    assert ledger_check() == []


def test_the_worker_bears_wises_fee_once(fake_wise) -> None:
    _workers_bear_fees()
    user = _pakistani_worker()
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    # The fee of the whole 50.00 is 0.78; 49.22 sent costs 0.77 (source 49.99 <= 50.00).
    assert (quote.fee_bearer, quote.amount, quote.fee) == ("worker", 49_22, 77)
    assert quote.destination_amount == 14_834_91  # 49.22 * 301.40, nothing more taken out
    wise_quote = fake_wise.quotes[quote.reference]
    assert _minor(wise_quote["sourceAmount"]) == quote.amount + quote.fee
    assert _minor(wise_quote["targetAmount"]) == quote.destination_amount

    payout = _confirm(user, quote)
    assert balance(accounts.worker_earnings(user)).available == 1  # 50.00 - 49.99
    payout = _settle(fake_wise, payout, "outgoing_payment_sent")
    assert payout.arrived_amount == _minor(fake_wise.transfers[payout.rail_reference]["targetValue"]) == 14_834_91
    assert _lines(payout) == [
        ("-", "pending", EARNINGS, WISE, 49_22),
        (":fee", "pending", EARNINGS, WISE, 77),
        (":fee:post", "post_pending", EARNINGS, WISE, 77),
        (":post", "post_pending", EARNINGS, WISE, 49_22),
    ]
    assert balance(accounts.external_wise()).credits_posted == _wise_debited(fake_wise) == 49_99
    assert balance(accounts.coop_payout_fees()).debits_posted == 0
    assert ledger_check() == []


@pytest.mark.parametrize("workers_bear", [False, True])
def test_a_bounced_wise_payout_gives_the_worker_back_all_they_paid(fake_wise, workers_bear: bool) -> None:
    if workers_bear:
        _workers_bear_fees()
    user = _pakistani_worker()
    earn(user, 50_00)
    payout = _confirm(user, services.payout_quote_create(user=user))
    payout = _settle(fake_wise, payout, "outgoing_payment_sent")
    payout = _settle(fake_wise, payout, "bounced_back")
    assert (payout.state, payout.failure_code) == (Payout.State.FAILED, "bounced_back")
    assert balance(accounts.worker_earnings(user)).available == 50_00
    # Wise keeps its fee on a returned transfer; the co-op bears it whoever would have.
    wise_account = balance(accounts.external_wise())
    assert wise_account.credits_posted - wise_account.debits_posted == payout.fee
    fees = balance(accounts.coop_payout_fees())
    assert fees.debits_posted - fees.credits_posted == payout.fee
    assert ledger_check() == []


def test_a_refused_wise_transfer_takes_nothing(fake_wise) -> None:
    user = _pakistani_worker()
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    fake_wise.expire_quotes()
    payout = _confirm(user, quote)
    assert (payout.state, payout.failure_code) == (Payout.State.FAILED, "quote_expired")
    assert balance(accounts.worker_earnings(user)).available == 50_00
    assert not Transfer.objects.filter(pk=f"{payout.ledger_pending_id}:fee").exists()
    assert balance(accounts.external_wise()).credits_posted == 0
    assert ledger_check() == []


def test_a_fee_that_does_not_settle_is_taken_as_wise_split_it(fake_wise, monkeypatch) -> None:
    """A fee that moves at every re-quote: after the last attempt the quote is what Wise
    says it debits and converts, so the figures still add up."""
    real = wise_client.quote_create
    asked: list[int] = []

    def moving_fee(**kwargs: Any) -> wise_client.WiseQuote:
        asked.append(kwargs["amount"])
        found = real(**kwargs)
        return wise_client.WiseQuote(
            id=found.id,
            rate=found.rate,
            source_amount=found.source_amount,
            fee=100 + len(asked),
            target_amount=(found.source_amount - 100 - len(asked)) * 30140 // 100,
            target_currency=found.target_currency,
            expires_at=found.expires_at,
        )

    monkeypatch.setattr(wise_client, "quote_create", moving_fee)
    user = _pakistani_worker()
    earn(user, 50_00)
    quote = services.payout_quote_create(user=user)
    # Each re-quote adds the last fee; the last of QUOTE_ATTEMPTS is taken as Wise split it.
    assert asked == [50_00] + [51_00 + attempt for attempt in range(1, QUOTE_ATTEMPTS)]
    last_fee = 100 + QUOTE_ATTEMPTS
    assert (quote.amount, quote.fee) == (asked[-1] - last_fee, last_fee)
    assert quote.amount + quote.fee == asked[-1]
    assert quote.destination_amount == quote.amount * 30140 // 100


def test_the_quote_api_shows_the_worker_what_arrives_and_what_it_costs(fake_wise) -> None:
    _workers_bear_fees()
    user = _pakistani_worker()
    earn(user, 50_00)
    client = APIClient()
    client.force_authenticate(user)
    answer = client.post("/api/payouts/quotes/", {"amount": "50.00"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["amount"], body["fee"], body["total_from_balance"]) == ("49.22", "0.77", "49.99")
    assert (body["destination_amount"], body["destination_currency"]) == ("14834.91", "PKR")
    wise_quote = fake_wise.quotes[PayoutQuote.objects.get(pk=body["id"]).reference]
    assert str(Decimal(str(wise_quote["targetAmount"])).quantize(Decimal("0.01"))) == body["destination_amount"]
    assert str(Decimal(str(wise_quote["sourceAmount"])).quantize(Decimal("0.01"))) == body["total_from_balance"]


def test_the_estimate_page_shows_the_fee_on_top_and_what_arrives(fake_wise, client) -> None:
    user = _pakistani_worker()
    earn(user, 50_00)
    client.force_login(user)
    page = client.post("/work/payouts/estimate/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<dd id="quote-amount">50.00 EUR</dd>' in html
    assert '<dd id="quote-fee">0.78 EUR, paid by the co-op</dd>' in html
    # What the fake Wise says arrives: the whole 50.00 converted.
    assert '<dd id="quote-destination">15070.00 PKR</dd>' in html
    quote = PayoutQuote.objects.get(user=user)
    assert _minor(fake_wise.quotes[quote.reference]["targetAmount"]) == 15_070_00


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    asked=st.integers(min_value=WiseRail.min_amount, max_value=WiseRail.max_amount),
    percent=st.decimals(min_value=0, max_value=Decimal("0.08"), places=4),
    fixed=st.decimals(min_value=0, max_value=5, places=2),
    currency=st.sampled_from(sorted(RATES)),
)
def test_any_wise_price_gives_a_quote_that_adds_up(
    fake_wise, monkeypatch, asked: int, percent: Decimal, fixed: Decimal, currency: str
) -> None:
    """Whatever Wise's fee: amount + fee is the sourceAmount Wise debits, the fee is
    Wise's, what arrives is Wise's targetAmount (the amount converted whole), and the
    worker never has more sent than they asked for: exactly that for a fee of up to 2%
    (Wise's fees to these countries are well under), at most a few cents less above."""
    monkeypatch.setattr(wise_api, "FEE_PERCENT", percent)
    monkeypatch.setattr(wise_api, "FEE_FIXED", fixed)
    method = PayoutMethod(rail="wise", destination={"recipient": "1000", "currency": currency, "country": "KE"})
    quote = WiseRail().quote(amount=asked, currency="EUR", method=method, key="property")
    wise_quote = fake_wise.quotes[quote.reference]
    assert quote.amount + quote.fee == _minor(wise_quote["sourceAmount"])
    assert quote.fee == _minor(wise_quote["paymentOptions"][0]["fee"]["total"])
    assert quote.destination_amount == _minor(wise_quote["targetAmount"])
    assert quote.destination_amount == int(
        (Decimal(quote.amount) * Decimal(RATES[currency])).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    assert quote.amount <= asked
    if percent <= Decimal("0.02"):
        assert quote.amount == asked
