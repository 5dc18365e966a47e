"""Writes for money entering and leaving the platform.

Every money movement maps to one ledger transfer with a deterministic id
(``deposit:<id>``, ``withdrawal:<id>``), and every Stripe write uses a
deterministic idempotency key, so a step that crashes half-way can simply run
again: Stripe replays its first answer and the ledger returns the transfer it
already wrote. No Stripe call is made while a database row lock is held.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.selectors import user_is_treasurer
from core.audit import audit_record
from core.errors import AppError, PermissionDenied
from core.money import MAX_DEPOSIT, MAX_WITHDRAWAL, format_amount, platform_currency
from core.queue import queue_on_commit
from ledger import accounts as ledger_accounts
from ledger import services as ledger
from payments import card_funds, selectors, stripe_gateway
from payments.models import CardDispute, Deposit, Withdrawal, WithdrawalRefund
from payments.states import DEPOSIT, WITHDRAWAL

logger = logging.getLogger(__name__)

# Letters and digits a person cannot misread (no 0/O, 1/I/L).
_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """A short human code like ``COOP-7KQ2-9XJD`` for a bank transfer's reference line."""
    groups = ("".join(secrets.choice(_REFERENCE_ALPHABET) for _unused in range(4)) for _unused in range(2))
    return "COOP-" + "-".join(groups)


def _check_amount(amount: int, *, currency: str) -> None:
    if amount <= 0:
        raise AppError(
            "invalid_amount", _("The amount must be more than zero."), fields={"amount": [_("Must be > 0.")]}
        )
    if amount > MAX_DEPOSIT:
        raise AppError(
            "amount_too_large",
            _("One payment can be at most %(amount)s; split it or contact the treasurer.")
            % {"amount": format_amount(MAX_DEPOSIT, currency)},
            fields={"amount": [_("Too large.")]},
        )


def _require_staff(*, actor: User, organisation: Organisation) -> None:
    if not actor.has_perm("accounts.manage_organisation", organisation):
        raise PermissionDenied(_("Only the organisation's staff can move its money."))


def _deposit_create(*, organisation: Organisation, actor: User, amount: int, method: str, status: str) -> Deposit:
    currency = platform_currency()
    _check_amount(amount, currency=currency)
    _require_staff(actor=actor, organisation=organisation)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                deposit = Deposit.objects.create(
                    organisation=organisation,
                    method=method,
                    status=status,
                    amount=amount,
                    currency=currency,
                    reference=new_reference(),
                    created_by=actor,
                )
                audit_record(
                    actor=actor,
                    action="deposit.created",
                    target=deposit,
                    after={"method": method, "amount": amount, "currency": currency, "reference": deposit.reference},
                )
            return deposit
        except IntegrityError:  # a reference collision: 31^8 codes, so retrying is enough
            continue
    raise AppError("reference_exhausted", _("Could not allocate a payment reference; try again."), status=503)


# -- card deposits (Stripe) --------------------------------------------------------


def deposit_stripe_start(*, organisation: Organisation, actor: User, amount: int) -> Deposit:
    """Creates a pending card deposit and its Stripe PaymentIntent.

    The deposit row is committed first; if Stripe cannot be reached the deposit
    stays pending without an intent and ``deposit_payment_intent_ensure`` finishes
    it later under the same idempotency key (``StripeUnavailable`` is raised).
    Nothing is credited here: only the signed ``payment_intent.succeeded`` webhook does.
    """
    deposit = _deposit_create(
        organisation=organisation,
        actor=actor,
        amount=amount,
        method=Deposit.Method.STRIPE,
        status=Deposit.Status.PENDING,
    )
    return deposit_payment_intent_ensure(deposit=deposit)


def deposit_payment_intent_ensure(*, deposit: Deposit) -> Deposit:
    """Makes sure a pending card deposit has its PaymentIntent; idempotent and safe to retry."""
    if deposit.method != Deposit.Method.STRIPE:
        raise AppError("not_a_card_deposit", _("This deposit is paid by bank transfer, not by card."), status=409)
    if deposit.stripe_payment_intent_id:
        return deposit
    intent = stripe_gateway.payment_intent_create(
        amount=deposit.amount,
        currency=deposit.currency,
        idempotency_key=f"deposit:{deposit.pk}:payment_intent",
        metadata={
            "deposit_id": str(deposit.pk),
            "deposit_reference": deposit.reference,
            "organisation": deposit.organisation.slug,
        },
        description=f"Top-up {deposit.reference}",
    )
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().get(pk=deposit.pk)
        if not deposit.stripe_payment_intent_id:
            deposit.stripe_payment_intent_id = intent.id
            deposit.stripe_client_secret = intent.client_secret
            deposit.save(update_fields=["stripe_payment_intent_id", "stripe_client_secret"])
            audit_record(actor=None, action="deposit.payment_intent", target=deposit, after={"intent": intent.id})
    return deposit


def _deposit_for_intent(intent: stripe_gateway.PaymentIntent) -> Deposit | None:
    """The deposit an intent pays for, locked. Found by the intent's id or, when the
    response to the create call was lost, by the deposit id and reference in its metadata."""
    deposit = Deposit.objects.select_for_update().filter(stripe_payment_intent_id=intent.id).first()
    if deposit is None and intent.metadata.get("deposit_id", "").isdigit():
        deposit = (
            Deposit.objects.select_for_update()
            .filter(
                pk=int(intent.metadata["deposit_id"]),
                reference=intent.metadata.get("deposit_reference", ""),
                method=Deposit.Method.STRIPE,
            )
            .first()
        )
        if deposit is not None and deposit.stripe_payment_intent_id not in (None, "", intent.id):
            return None
    return deposit


def deposit_stripe_succeeded(*, intent: stripe_gateway.PaymentIntent) -> Deposit | None:
    """Credits a card deposit once Stripe says its PaymentIntent succeeded.

    Exactly once: a replayed or late event finds the deposit succeeded and
    changes nothing. Credits ``amount_received`` to the organisation's available
    balance (ledger transfer ``deposit:<id>``: external Stripe -> available).
    Returns ``None`` for an intent that no deposit of ours started.
    """
    with transaction.atomic():
        deposit = _deposit_for_intent(intent)
        if deposit is None:
            logger.warning("payment_intent.succeeded for unknown intent %s", intent.id)
            return None
        if deposit.status == Deposit.Status.SUCCEEDED:
            return deposit
        if intent.currency != deposit.currency:
            raise AppError(
                "currency_mismatch",
                _("Intent %(number)s is in %(currency)s, deposit %(reference)s in %(currency2)s.")
                % {
                    "number": intent.id,
                    "currency": intent.currency,
                    "reference": deposit.reference,
                    "currency2": deposit.currency,
                },
                status=409,
            )
        before = {"status": deposit.status}
        deposit.status = DEPOSIT.target(deposit.status, "succeed")
        deposit.credited_amount = intent.amount_received
        deposit.credited_at = timezone.now()
        deposit.stripe_payment_intent_id = intent.id
        deposit.stripe_charge_id = intent.latest_charge
        deposit.failure_message = ""
        deposit.save(
            update_fields=[
                "status",
                "credited_amount",
                "credited_at",
                "stripe_payment_intent_id",
                "stripe_charge_id",
                "failure_message",
            ]
        )
        ledger.transfer(
            transfer_id=deposit.ledger_transfer_id,
            debit=ledger_accounts.external_stripe(),
            credit=ledger_accounts.org_available(deposit.organisation),
            amount=deposit.credited_amount,
            code="deposit_stripe",
            memo=f"Card top-up {deposit.reference} ({intent.id})",
        )
        card_funds.card_funds_bind(deposit=deposit, amount=deposit.credited_amount)
        audit_record(
            actor=None,
            action="deposit.succeeded",
            target=deposit,
            before=before,
            after={"status": deposit.status, "credited": deposit.credited_amount, "intent": intent.id},
        )
        if deposit.stripe_charge_id:
            queue_on_commit("payments.jobs.deposit_stripe_fee_book", deposit_id=deposit.pk)
    return deposit


def deposit_stripe_fee_transfer_id(deposit: Deposit) -> str:
    return f"{deposit.ledger_transfer_id}:stripe-fee"


def deposit_stripe_fee_book(*, deposit: Deposit) -> int | None:
    """Books Stripe's processing fee of a card top-up (issue 19 point 14), once.

    The fee is read from the charge's balance transaction (a Stripe call, made before any
    lock), then booked as ``deposit:<id>:stripe-fee`` (organisation available -> Stripe):
    the requester pays the card fee, as the co-op's fee rule says. Should the balance
    already be spent, the rest comes from the co-op reserve (``...:stripe-fee:reserve``),
    never from workers. ``Deposit.stripe_fee`` records the fee once booked (or once known to
    be 0). Returns the fee; ``None`` while Stripe has not made the balance transaction yet
    (the periodic ``payments.jobs.stripe_fees_book_due`` asks again). A repeat books nothing
    more and calls nobody. Raises ``StripeUnavailable`` (the job retries)."""
    if deposit.method != Deposit.Method.STRIPE or not deposit.stripe_charge_id:
        return 0
    if deposit.stripe_fee is not None:
        return deposit.stripe_fee
    booked = _stripe_fee_booked(deposit)
    fee = booked if booked is not None else stripe_gateway.charge_fee(charge_id=deposit.stripe_charge_id)
    if fee is None:
        return None
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().select_related("organisation").get(pk=deposit.pk)
        if deposit.stripe_fee is not None:
            return deposit.stripe_fee
        if _stripe_fee_booked(deposit) is None and fee > 0:
            _stripe_fee_write(deposit=deposit, fee=fee)
        deposit.stripe_fee = fee
        deposit.save(update_fields=["stripe_fee"])
    return fee


def _stripe_fee_booked(deposit: Deposit) -> int | None:
    """What the ledger holds of the deposit's fee transfers (None: none written)."""
    from ledger.models import Transfer

    transfer_id = deposit_stripe_fee_transfer_id(deposit)
    amounts = list(
        Transfer.objects.filter(pk__in=[transfer_id, f"{transfer_id}:reserve"]).values_list("amount", flat=True)
    )
    return int(sum(amounts)) if amounts else None


def _stripe_fee_write(*, deposit: Deposit, fee: int) -> None:
    from ledger.selectors import balance as ledger_balance

    transfer_id = deposit_stripe_fee_transfer_id(deposit)
    available_account = ledger_accounts.org_available(deposit.organisation)
    from_organisation = min(fee, max(0, ledger_balance(available_account).available))
    from_reserve = min(fee - from_organisation, max(0, ledger_balance(ledger_accounts.coop_reserve()).available))
    if from_organisation:
        ledger.transfer(
            transfer_id=transfer_id,
            debit=available_account,
            credit=ledger_accounts.external_stripe(),
            amount=from_organisation,
            code="stripe_fee",
            memo=f"Stripe's card fee for top-up {deposit.reference}",
        )
    if from_reserve:
        ledger.transfer(
            transfer_id=f"{transfer_id}:reserve",
            debit=ledger_accounts.coop_reserve(),
            credit=ledger_accounts.external_stripe(),
            amount=from_reserve,
            code="stripe_fee_reserve",
            memo=f"Stripe's card fee for top-up {deposit.reference}, not covered by the balance",
        )
    audit_record(
        actor=None,
        action="deposit.stripe_fee",
        target=deposit,
        after={"fee": fee, "organisation": from_organisation, "reserve": from_reserve},
    )


def deposits_stripe_fee_due() -> list[tuple[int, Any]]:
    """Card deposits whose fee is not booked yet (the job was lost, Stripe was unreachable,
    or its balance transaction did not exist yet), oldest first, with when they became due."""
    settled = timezone.now() - timedelta(minutes=1)
    return list(
        Deposit.objects.filter(
            method=Deposit.Method.STRIPE,
            status=Deposit.Status.SUCCEEDED,
            stripe_fee__isnull=True,
            credited_at__lt=settled,
        )
        .exclude(stripe_charge_id="")
        .order_by("credited_at", "id")
        .values_list("id", "credited_at")[:500]
    )


def deposit_stripe_failed(*, intent: stripe_gateway.PaymentIntent, message: str) -> Deposit | None:
    """Records a failed card payment attempt. A deposit that already succeeded stays
    succeeded (a late or replayed failure event changes nothing)."""
    with transaction.atomic():
        deposit = _deposit_for_intent(intent)
        if deposit is None or not DEPOSIT.allowed(deposit.status, "fail"):
            return deposit
        before = {"status": deposit.status}
        deposit.status = DEPOSIT.target(deposit.status, "fail")
        deposit.failure_message = message[:300]
        deposit.stripe_payment_intent_id = intent.id
        deposit.save(update_fields=["status", "failure_message", "stripe_payment_intent_id"])
        audit_record(actor=None, action="deposit.failed", target=deposit, before=before, after={"message": message})
    return deposit


# -- bank deposits -------------------------------------------------------------------


def deposit_bank_start(*, organisation: Organisation, actor: User, amount: int) -> Deposit:
    """Announces a bank transfer: a deposit awaiting the money, with the reference
    code the requester must put on the transfer. Nothing is credited yet."""
    return _deposit_create(
        organisation=organisation,
        actor=actor,
        amount=amount,
        method=Deposit.Method.BANK,
        status=Deposit.Status.AWAITING_TRANSFER,
    )


def deposit_bank_confirm(*, deposit: Deposit, amount: int, actor: User | None, via: str = "api") -> Deposit:
    """The treasurer saw the transfer arrive: credits ``amount`` (what actually arrived).

    ``actor`` must be a treasurer; ``None`` is the treasurer at the server's shell
    (the ``confirm_deposit`` command). Locks the deposit; refuses a deposit that is
    not awaiting a transfer with ``invalid_state`` (409), so nothing is credited twice.
    Ledger transfer ``deposit:<id>``: external bank -> available.
    """
    if actor is not None and not user_is_treasurer(actor):
        raise PermissionDenied(_("Only the treasurer can confirm bank deposits."))
    _check_amount(amount, currency=deposit.currency)
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().select_related("organisation").get(pk=deposit.pk)
        if deposit.method != Deposit.Method.BANK:
            raise AppError(
                "not_a_bank_deposit",
                _("Deposit %(reference)s is a card payment; Stripe confirms it, not the treasurer.")
                % {"reference": deposit.reference},
                status=409,
            )
        before = {"status": deposit.status}
        deposit.status = DEPOSIT.target(deposit.status, "confirm")
        deposit.credited_amount = amount
        deposit.credited_at = timezone.now()
        deposit.confirmed_by = actor
        deposit.save(update_fields=["status", "credited_amount", "credited_at", "confirmed_by"])
        ledger.transfer(
            transfer_id=deposit.ledger_transfer_id,
            debit=ledger_accounts.external_bank(),
            credit=ledger_accounts.org_available(deposit.organisation),
            amount=amount,
            code="deposit_bank",
            memo=f"Bank transfer {deposit.reference}",
        )
        audit_record(
            actor=actor,
            action="deposit.confirmed",
            target=deposit,
            before=before,
            after={"status": deposit.status, "credited": amount, "announced": deposit.amount, "via": via},
        )
    return deposit


# -- withdrawals ---------------------------------------------------------------------


def withdrawal_request(
    *,
    organisation: Organisation,
    actor: User,
    amount: int,
    method: str,
    iban: str = "",
    account_holder: str = "",
    token: str = "",
) -> Withdrawal:
    """Reserves ``amount`` of the organisation's available balance to give back.

    With a ``token`` the request is idempotent: a retry (also a concurrent one) answers
    the first withdrawal; the same token for another withdrawal is ``token_reused`` (409).

    ``stripe_refund``: refunds the organisation's card deposits, oldest first, and
    is refused (``withdrawal_exceeds_refundable``, 409) above what they can still
    refund. ``bank``: the treasurer sends it to ``iban`` and confirms; only from the
    balance not bound to recent card deposits (``withdrawal_card_funds``, 409; see
    ``payments.selectors.card_bound_amount``).
    In one transaction: the withdrawal row, its refund parts and a pending ledger
    transfer ``withdrawal:<id>`` (available -> rail). Above the available balance the
    ledger refuses (``insufficient_funds``, 409) and nothing is written. The Stripe
    refunds happen afterwards in a job (``payments.jobs.withdrawal_process``).
    """
    currency = platform_currency()
    _require_staff(actor=actor, organisation=organisation)
    if amount <= 0:
        raise AppError(
            "invalid_amount", _("The amount must be more than zero."), fields={"amount": [_("Must be > 0.")]}
        )
    if amount > MAX_WITHDRAWAL:
        raise AppError(
            "amount_out_of_range",
            _("amount must be at most %(amount)s per withdrawal.")
            % {"amount": format_amount(MAX_WITHDRAWAL, currency)},
            fields={"amount": [_("At most %(amount)s.") % {"amount": format_amount(MAX_WITHDRAWAL, currency)}]},
            details={"field": "amount", "maximum": MAX_WITHDRAWAL},
        )
    if method not in Withdrawal.Method.values:
        raise AppError(
            "invalid",
            _("Unknown withdrawal method '%(method)s'.") % {"method": method},
            fields={"method": [_("Unknown.")]},
        )
    if method == Withdrawal.Method.BANK and not (iban.strip() and account_holder.strip()):
        raise AppError(
            "invalid",
            _("A bank withdrawal needs the IBAN and the account holder's name."),
            fields={"iban": [_("Required.")], "account_holder": [_("Required.")]},
        )
    key = f"{organisation.pk}:{token[:64]}" if token else None
    if key is not None:
        first = Withdrawal.objects.filter(idempotency_key=key).first()
        if first is not None:
            return _withdrawal_replayed(first, amount=amount, method=method)
    _refuse_while_card_dispute_open(organisation=organisation)
    try:
        return _withdrawal_request_locked(
            organisation=organisation,
            actor=actor,
            amount=amount,
            method=method,
            iban=iban,
            account_holder=account_holder,
            key=key,
            currency=currency,
        )
    except (IntegrityError, AppError):
        # A concurrent retry with the same token won (the unique key, or the money it
        # reserved first): answer its withdrawal rather than a refusal.
        winner = Withdrawal.objects.filter(idempotency_key=key).first() if key is not None else None
        if winner is None:
            raise
        return _withdrawal_replayed(winner, amount=amount, method=method)


def _withdrawal_replayed(first: Withdrawal, *, amount: int, method: str) -> Withdrawal:
    if first.amount != amount or first.method != method:
        raise AppError("token_reused", _("That request token was used for a different withdrawal."), status=409)
    return first


def _withdrawal_request_locked(
    *,
    organisation: Organisation,
    actor: User,
    amount: int,
    method: str,
    iban: str,
    account_holder: str,
    key: str | None,
    currency: str,
) -> Withdrawal:
    with transaction.atomic():
        parts: list[tuple[Deposit, int]] = []
        if method == Withdrawal.Method.BANK:
            _check_bank_withdrawable(organisation=organisation, amount=amount, currency=currency)
        if method == Withdrawal.Method.STRIPE_REFUND:
            # Lock the card deposits in id order (the fixed order every writer uses).
            deposits = list(
                Deposit.objects.select_for_update()
                .filter(
                    organisation=organisation,
                    method=Deposit.Method.STRIPE,
                    status=Deposit.Status.SUCCEEDED,
                    refunded_amount__lt=F("credited_amount"),
                )
                .order_by("id")
            )
            refundable = sum(d.refundable_amount for d in deposits)
            if amount > refundable:
                raise AppError(
                    "withdrawal_exceeds_refundable",
                    _("Card payments can refund at most %(amount)s; ask for the rest by bank transfer.")
                    % {"amount": format_amount(refundable, currency)},
                    status=409,
                    details={"refundable": refundable},
                )
            remaining = amount
            for deposit in deposits:
                take = min(remaining, deposit.refundable_amount)
                if take > 0:
                    parts.append((deposit, take))
                    remaining -= take
        withdrawal = Withdrawal.objects.create(
            organisation=organisation,
            method=method,
            amount=amount,
            currency=currency,
            iban=iban.replace(" ", "").upper(),
            account_holder=account_holder.strip(),
            idempotency_key=key,
            requested_by=actor,
        )
        ledger.transfer(
            transfer_id=withdrawal.ledger_transfer_id,
            debit=ledger_accounts.org_available(organisation),
            credit=_rail_account(withdrawal),
            amount=amount,
            code=f"withdrawal_{method}",
            memo=f"Withdrawal {withdrawal.pk} to {organisation.slug}",
            pending=True,
        )
        for deposit, take in parts:
            WithdrawalRefund.objects.create(withdrawal=withdrawal, deposit=deposit, amount=take)
            Deposit.objects.filter(pk=deposit.pk).update(refunded_amount=F("refunded_amount") + take)
            card_funds.card_funds_refund(deposit=deposit, amount=take, withdrawal_id=withdrawal.pk)
        audit_record(
            actor=actor,
            action="withdrawal.requested",
            target=withdrawal,
            after={"amount": amount, "method": method, "refunds": [[d.reference, take] for d, take in parts]},
        )
        if method == Withdrawal.Method.STRIPE_REFUND:
            queue_on_commit("payments.jobs.withdrawal_process", withdrawal_id=withdrawal.pk)
    return withdrawal


def _check_bank_withdrawable(*, organisation: Organisation, amount: int, currency: str) -> None:
    """Card money goes back to cards (issue 19 point 9): a bank withdrawal may take only
    the balance not bound to card deposits of the holding period. Locks the organisation's
    card deposits in id order (the order every writer uses), so a concurrent refund or
    bank withdrawal sees the tally this one decided on."""
    list(
        Deposit.objects.select_for_update()
        .filter(organisation=organisation, method=Deposit.Method.STRIPE, status=Deposit.Status.SUCCEEDED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    # The periodic job may not have run yet: what the holding period freed is released now.
    card_funds.card_funds_release_due(organisation=organisation)
    card_bound = selectors.card_bound_amount(organisation=organisation)
    withdrawable = selectors.organisation_balance(organisation=organisation).available - card_bound
    # Above the whole available balance the ledger answers insufficient_funds, as ever.
    if card_bound > 0 and withdrawable < amount <= withdrawable + card_bound:
        raise AppError(
            "withdrawal_card_funds",
            _(
                "Only %(amount)s can go out by bank transfer: %(amount2)s came by card "
                "and goes back only to the card that paid (a card refund) "
                "until the co-op's “Card money holding period” has passed."
            )
            % {"amount": format_amount(withdrawable, currency), "amount2": format_amount(card_bound, currency)},
            status=409,
            details={"bank_withdrawable": withdrawable, "card_bound": card_bound},
        )


def _rail_account(withdrawal: Withdrawal) -> Any:
    if withdrawal.method == Withdrawal.Method.STRIPE_REFUND:
        return ledger_accounts.external_stripe()
    return ledger_accounts.external_bank()


def withdrawal_refunds_send(*, withdrawal: Withdrawal) -> Withdrawal:
    """Sends each outstanding Stripe refund of a withdrawal, then settles the ledger.

    Safe to run again at any point (a retry after a crash or a lost response):
    each refund's idempotency key is ``withdrawal:<id>:refund:<deposit id>``, so
    Stripe replays the refund it already made instead of refunding twice, and
    the settlement is exactly once. Raises ``StripeUnavailable`` when Stripe cannot
    be reached (the job tries again later); a refund Stripe refuses is marked
    failed and its amount goes back to the available balance.
    """
    for part in list(withdrawal.refunds.filter(status=WithdrawalRefund.Status.PENDING).select_related("deposit")):
        assert part.deposit.stripe_payment_intent_id
        try:
            refund = stripe_gateway.refund_create(
                payment_intent_id=part.deposit.stripe_payment_intent_id,
                amount=part.amount,
                idempotency_key=part.idempotency_key,
                metadata={"withdrawal_id": str(withdrawal.pk), "deposit_reference": part.deposit.reference},
            )
        except stripe_gateway.StripeRefused as refused:
            _refund_part_record(part=part, refund_id=None, succeeded=False, message=refused.message)
            continue
        _refund_part_record(part=part, refund_id=refund.id, succeeded=refund.status != "failed", message="")
    return withdrawal_settle(withdrawal=withdrawal)


def _refund_part_record(*, part: WithdrawalRefund, refund_id: str | None, succeeded: bool, message: str) -> None:
    with transaction.atomic():
        # Lock order: deposit before refund part, as in withdrawal_request.
        Deposit.objects.select_for_update().filter(pk=part.deposit_id).first()
        part = WithdrawalRefund.objects.select_for_update().get(pk=part.pk)
        if part.status != WithdrawalRefund.Status.PENDING:
            return
        part.status = WithdrawalRefund.Status.SUCCEEDED if succeeded else WithdrawalRefund.Status.FAILED
        part.stripe_refund_id = refund_id
        part.failure_message = message[:300]
        part.save(update_fields=["status", "stripe_refund_id", "failure_message"])
        if not succeeded:
            Deposit.objects.filter(pk=part.deposit_id).update(refunded_amount=F("refunded_amount") - part.amount)
            card_funds.card_funds_refund_failed(
                deposit=Deposit.objects.select_related("organisation").get(pk=part.deposit_id),
                withdrawal_id=part.withdrawal_id,
            )
        audit_record(
            actor=None,
            action="withdrawal.refund_" + part.status,
            target=part,
            after={"refund": refund_id or "", "amount": part.amount, "message": message},
        )


def withdrawal_settle(*, withdrawal: Withdrawal) -> Withdrawal:
    """Once no refund is outstanding: posts what was refunded (the rest returns to
    available) and completes the withdrawal, or voids it all when nothing was
    refunded. Exactly once; a no-op while refunds are pending or when settled."""
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if withdrawal.status != Withdrawal.Status.REQUESTED or withdrawal.method != Withdrawal.Method.STRIPE_REFUND:
            return withdrawal
        parts = withdrawal.refunds.all()
        if parts.filter(status=WithdrawalRefund.Status.PENDING).exists():
            return withdrawal
        paid = parts.filter(status=WithdrawalRefund.Status.SUCCEEDED).aggregate(total=Sum("amount"))["total"] or 0
        return _withdrawal_finish(withdrawal=withdrawal, paid=paid, actor=None)


def _withdrawal_finish(*, withdrawal: Withdrawal, paid: int, actor: User | None) -> Withdrawal:
    before = {"status": withdrawal.status}
    if paid > 0:
        ledger.post_pending(
            transfer_id=f"{withdrawal.ledger_transfer_id}:post",
            pending_id=withdrawal.ledger_transfer_id,
            amount=paid,
        )
        withdrawal.status = WITHDRAWAL.target(withdrawal.status, "complete")
    else:
        ledger.void_pending(
            transfer_id=f"{withdrawal.ledger_transfer_id}:void", pending_id=withdrawal.ledger_transfer_id
        )
        withdrawal.status = WITHDRAWAL.target(withdrawal.status, "fail")
        failures = withdrawal.refunds.exclude(failure_message="").values_list("failure_message", flat=True)
        withdrawal.failure_message = "; ".join(failures)[:300]
    withdrawal.paid_amount = paid
    withdrawal.completed_at = timezone.now()
    withdrawal.save(update_fields=["status", "paid_amount", "completed_at", "failure_message"])
    audit_record(
        actor=actor,
        action=f"withdrawal.{withdrawal.status}",
        target=withdrawal,
        before=before,
        after={"status": withdrawal.status, "paid": paid},
    )
    return withdrawal


def withdrawal_bank_confirm(*, withdrawal: Withdrawal, actor: User) -> Withdrawal:
    """The treasurer sent a bank withdrawal: posts the reserved amount. Treasurer only;
    ``invalid_state`` (409) when it is not waiting, so it is never paid twice."""
    if not user_is_treasurer(actor):
        raise PermissionDenied(_("Only the treasurer can confirm bank withdrawals."))
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if withdrawal.method != Withdrawal.Method.BANK:
            raise AppError("not_a_bank_withdrawal", _("Card refunds are confirmed by Stripe."), status=409)
        WITHDRAWAL.target(withdrawal.status, "complete")
        return _withdrawal_finish(withdrawal=withdrawal, paid=withdrawal.amount, actor=actor)


def withdrawal_refund_failed(*, refund_id: str, metadata: dict[str, str], message: str) -> WithdrawalRefund | None:
    """Stripe reports that a refund failed after all (card refunds can fail days later).

    The money is back in the platform's Stripe balance, so it goes back to the
    organisation's available balance: if the withdrawal was already settled, a
    ledger transfer ``withdrawal:<id>:refund-failed:<deposit id>`` (external Stripe ->
    available); if not, the settlement simply posts less. Exactly once; found by the
    refund id or, when the refund's response was lost, by the metadata we sent.
    Returns ``None`` for a refund no withdrawal of ours made.
    """
    with transaction.atomic():
        found = WithdrawalRefund.objects.filter(stripe_refund_id=refund_id).first()
        if found is None and metadata.get("withdrawal_id", "").isdigit():
            found = WithdrawalRefund.objects.filter(
                withdrawal_id=int(metadata["withdrawal_id"]),
                deposit__reference=metadata.get("deposit_reference", ""),
                stripe_refund_id__isnull=True,
            ).first()
        if found is None:
            return None
        # Lock order: deposit, refund part, withdrawal (then the ledger's accounts).
        Deposit.objects.select_for_update().filter(pk=found.deposit_id).first()
        part = WithdrawalRefund.objects.select_for_update().get(pk=found.pk)
        withdrawal = Withdrawal.objects.select_for_update().get(pk=part.withdrawal_id)
        if part.status == WithdrawalRefund.Status.FAILED:
            return part
        was_paid = part.status == WithdrawalRefund.Status.SUCCEEDED and withdrawal.status == Withdrawal.Status.COMPLETED
        part.status = WithdrawalRefund.Status.FAILED
        part.stripe_refund_id = refund_id
        part.failure_message = message[:300]
        part.save(update_fields=["status", "stripe_refund_id", "failure_message"])
        Deposit.objects.filter(pk=part.deposit_id).update(refunded_amount=F("refunded_amount") - part.amount)
        card_funds.card_funds_refund_failed(
            deposit=Deposit.objects.select_related("organisation").get(pk=part.deposit_id),
            withdrawal_id=withdrawal.pk,
        )
        if was_paid:
            ledger.transfer(
                transfer_id=f"{withdrawal.ledger_transfer_id}:refund-failed:{part.deposit_id}",
                debit=ledger_accounts.external_stripe(),
                credit=ledger_accounts.org_available(withdrawal.organisation),
                amount=part.amount,
                code="withdrawal_refund_failed",
                memo=f"Refund {refund_id} failed: {message}",
            )
            withdrawal.paid_amount -= part.amount
            withdrawal.failure_message = f"Refund {refund_id} failed: {message}"[:300]
            withdrawal.save(update_fields=["paid_amount", "failure_message"])
        audit_record(
            actor=None,
            action="withdrawal.refund_failed_late",
            target=part,
            after={"refund": refund_id, "amount": part.amount, "returned_to_available": was_paid, "message": message},
        )
    return part


# -- card disputes (issue 19 point 14) --------------------------------------------------

CARD_DISPUTE_RESERVE_RULE = "card_dispute_reserve"
# Stripe's dispute statuses that mean the card payer's bank took nothing (yet) or gave it back.
_DISPUTE_INQUIRY = ("warning_needs_response", "warning_under_review")
_DISPUTE_WON = ("won", "warning_closed")


@dataclass(frozen=True, slots=True)
class DisputeFee:
    """The fee on one of a dispute's balance transactions: positive when Stripe charged it
    (the dispute fee, e.g. 15.00, with the money taken back), negative when it gave it back."""

    balance_transaction_id: str
    fee: int


def card_dispute_record(
    *,
    dispute_id: str,
    charge_id: str,
    payment_intent_id: str,
    amount: int,
    status: str,
    reason: str,
    fees: Sequence[DisputeFee] = (),
) -> CardDispute | None:
    """Records a Stripe dispute of one of our card top-ups and books the money it moved.

    Idempotent and order-independent (webhooks repeat and arrive in any order): the row
    is found by the dispute id under a lock. Once Stripe has taken the money (any status
    but an inquiry's), the ledger books it exactly once: ``card-dispute:<id>:requester``
    (organisation available -> Stripe) for what the balance holds, then
    ``card-dispute:<id>:reserve`` (co-op reserve -> Stripe) for the rest, up to the
    reserve's balance and the governed ``card_dispute_reserve``; never workers' earnings.
    What neither covers stays ``uncovered`` for the treasurer. A won dispute (``won``,
    ``warning_closed``) returns both parts once (``:reinstated`` transfers); a lost one
    just closes. Stripe's dispute fee (``fees``, read from the dispute's balance
    transactions) is booked the same way, once per balance transaction, whatever the
    dispute's state: ``card-dispute:<id>:fee:<txn>`` (requester), ``...:reserve`` (the
    rest, within the same governed reserve limit); a fee given back returns the reserve's
    part first. Returns ``None`` for a charge no deposit of ours made.
    """
    with transaction.atomic():
        deposit = (
            Deposit.objects.select_for_update()
            .filter(method=Deposit.Method.STRIPE)
            .filter(
                models.Q(stripe_charge_id=charge_id, stripe_charge_id__gt="")
                | models.Q(stripe_payment_intent_id=payment_intent_id or None)
            )
            .first()
        )
        if deposit is None:
            logger.warning("dispute %s of unknown charge %s", dispute_id, charge_id)
            return None
        dispute, created = CardDispute.objects.select_for_update().get_or_create(
            stripe_dispute_id=dispute_id,
            defaults={
                "deposit": deposit,
                "organisation_id": deposit.organisation_id,
                "amount": amount,
                "reason": reason[:40],
            },
        )
        if created:
            audit_record(
                actor=None,
                action="card_dispute.opened",
                target=dispute,
                after={"deposit": deposit.reference, "amount": amount, "status": status},
            )
        if dispute.status == CardDispute.Status.OPEN:
            if status not in _DISPUTE_INQUIRY and not dispute.funds_withdrawn and status not in _DISPUTE_WON:
                _card_dispute_take(dispute=dispute, deposit=deposit)
            if status in _DISPUTE_WON or status == "lost":
                _card_dispute_close(dispute=dispute, won=status in _DISPUTE_WON)
        for item in fees:
            if item.fee and item.balance_transaction_id not in dispute.fee_bookings:
                _card_dispute_fee_book(dispute=dispute, deposit=deposit, item=item)
    return dispute


def _card_dispute_fee_book(*, dispute: CardDispute, deposit: Deposit, item: DisputeFee) -> None:
    """Books one balance transaction's dispute fee; the caller holds the dispute's lock."""
    from core.rules import rule_value
    from ledger.selectors import balance as ledger_balance

    base = f"{dispute.ledger_transfer_id}:fee:{item.balance_transaction_id}"
    available_account = ledger_accounts.org_available(deposit.organisation)
    reserve_account = ledger_accounts.coop_reserve()
    memo = f"Stripe's fee for card dispute {dispute.stripe_dispute_id} of top-up {deposit.reference}"
    if item.fee > 0:
        from_organisation = min(item.fee, max(0, ledger_balance(available_account).available))
        reserve_left = rule_value(CARD_DISPUTE_RESERVE_RULE) - dispute.reserve_debited - dispute.fee_reserve_debited
        from_reserve = min(
            item.fee - from_organisation, max(0, ledger_balance(reserve_account).available), max(0, reserve_left)
        )
        uncovered = item.fee - from_organisation - from_reserve
        for transfer_id, debit, part, code in (
            (base, available_account, from_organisation, "card_dispute_fee"),
            (f"{base}:reserve", reserve_account, from_reserve, "card_dispute_fee_reserve"),
        ):
            if part:
                ledger.transfer(
                    transfer_id=transfer_id,
                    debit=debit,
                    credit=ledger_accounts.external_stripe(),
                    amount=part,
                    code=code,
                    memo=memo,
                )
    else:
        # Given back: the reserve (which only stood in for the requester) first, then the
        # requester, then what was never covered.
        returned = -item.fee
        from_reserve = -min(returned, dispute.fee_reserve_debited)
        from_organisation = -min(returned + from_reserve, dispute.fee_organisation_debited)
        uncovered = -min(returned + from_reserve + from_organisation, dispute.fee_uncovered)
        for transfer_id, credit, part in (
            (base, available_account, -from_organisation),
            (f"{base}:reserve", reserve_account, -from_reserve),
        ):
            if part:
                ledger.transfer(
                    transfer_id=transfer_id,
                    debit=ledger_accounts.external_stripe(),
                    credit=credit,
                    amount=part,
                    code="card_dispute_fee_returned",
                    memo=memo + " (given back)",
                )
    dispute.fee_organisation_debited += from_organisation
    dispute.fee_reserve_debited += from_reserve
    dispute.fee_uncovered += uncovered
    dispute.fee_bookings = {
        **dispute.fee_bookings,
        item.balance_transaction_id: {
            "fee": item.fee,
            "organisation": from_organisation,
            "reserve": from_reserve,
            "uncovered": uncovered,
        },
    }
    dispute.save(update_fields=["fee_organisation_debited", "fee_reserve_debited", "fee_uncovered", "fee_bookings"])
    audit_record(
        actor=None,
        action="card_dispute.fee_booked",
        target=dispute,
        after={
            "balance_transaction": item.balance_transaction_id,
            "fee": item.fee,
            "organisation": from_organisation,
            "reserve": from_reserve,
            "uncovered": uncovered,
        },
    )


def _card_dispute_take(*, dispute: CardDispute, deposit: Deposit) -> None:
    from core.rules import rule_value
    from ledger.selectors import balance as ledger_balance

    available_account = ledger_accounts.org_available(deposit.organisation)
    from_organisation = min(dispute.amount, max(0, ledger_balance(available_account).available))
    rest = dispute.amount - from_organisation
    reserve_account = ledger_accounts.coop_reserve()
    from_reserve = min(rest, max(0, ledger_balance(reserve_account).available), rule_value(CARD_DISPUTE_RESERVE_RULE))
    if from_organisation:
        ledger.transfer(
            transfer_id=f"{dispute.ledger_transfer_id}:requester",
            debit=available_account,
            credit=ledger_accounts.external_stripe(),
            amount=from_organisation,
            code="card_dispute",
            memo=f"Card dispute {dispute.stripe_dispute_id} of top-up {deposit.reference}",
        )
    if from_reserve:
        ledger.transfer(
            transfer_id=f"{dispute.ledger_transfer_id}:reserve",
            debit=reserve_account,
            credit=ledger_accounts.external_stripe(),
            amount=from_reserve,
            code="card_dispute_reserve",
            memo=f"Card dispute {dispute.stripe_dispute_id}: what {deposit.organisation.slug} could not cover",
        )
    card_funds.card_funds_disputed(deposit=deposit, amount=dispute.amount, dispute_id=dispute.pk)
    dispute.funds_withdrawn = True
    dispute.organisation_debited = from_organisation
    dispute.reserve_debited = from_reserve
    dispute.uncovered = rest - from_reserve
    dispute.save(update_fields=["funds_withdrawn", "organisation_debited", "reserve_debited", "uncovered"])
    audit_record(
        actor=None,
        action="card_dispute.funds_withdrawn",
        target=dispute,
        after={"organisation": from_organisation, "reserve": from_reserve, "uncovered": dispute.uncovered},
    )


def _card_dispute_close(*, dispute: CardDispute, won: bool) -> None:
    if won and dispute.funds_withdrawn:
        if dispute.organisation_debited:
            ledger.transfer(
                transfer_id=f"{dispute.ledger_transfer_id}:requester:reinstated",
                debit=ledger_accounts.external_stripe(),
                credit=ledger_accounts.org_available(dispute.organisation),
                amount=dispute.organisation_debited,
                code="card_dispute_won",
                memo=f"Card dispute {dispute.stripe_dispute_id} won",
            )
        if dispute.reserve_debited:
            ledger.transfer(
                transfer_id=f"{dispute.ledger_transfer_id}:reserve:reinstated",
                debit=ledger_accounts.external_stripe(),
                credit=ledger_accounts.coop_reserve(),
                amount=dispute.reserve_debited,
                code="card_dispute_won",
                memo=f"Card dispute {dispute.stripe_dispute_id} won",
            )
    if won and dispute.funds_withdrawn:
        card_funds.card_funds_dispute_won(deposit=dispute.deposit, dispute_id=dispute.pk)
    dispute.status = CardDispute.Status.WON if won else CardDispute.Status.LOST
    dispute.closed_at = timezone.now()
    dispute.save(update_fields=["status", "closed_at"])
    audit_record(actor=None, action=f"card_dispute.{dispute.status}", target=dispute, after={"status": dispute.status})


def _refuse_while_card_dispute_open(*, organisation: Organisation) -> None:
    if CardDispute.objects.filter(organisation=organisation, status=CardDispute.Status.OPEN).exists():
        raise AppError(
            "card_dispute_open",
            _(
                "A card payment of this organisation is disputed at the payer's bank; "
                "withdrawals wait until the dispute is decided."
            ),
            status=409,
        )
