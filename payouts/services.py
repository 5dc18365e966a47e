"""Writes of the payouts app: methods, schedules, payouts and SEPA batches.

Money safety, in one place:

- A payout row and its ledger reservation (pending transfer ``payout:<id>``, the
  worker's earnings -> the rail's external account) are written in one
  transaction, under a lock of the worker's row and both ledger accounts, so a
  balance can never be paid out twice and a payout above the balance writes nothing.
- Rails are called outside any transaction, with idempotency keys derived from
  the payout id (``payout:<id>:transfer``, ``payout:<id>:bank_payout``,
  ``payout:<id>:reversal``). A job that crashes after the rail acted and runs
  again gets the rail's first answer back: one transfer, one ledger posting.
- Only a verified webhook or the treasurer's mark on a bank file settles a payout:
  paid posts the reservation (``payout:<id>:post``), failed voids it
  (``payout:<id>:void``) and the money is back in the worker's balance; a payout
  the bank returns after paying it is credited back (``payout:<id>:returned``).
- Suspension does not stop payouts: earned money is always paid.

Lock order, everywhere: SEPA batch, then payout, then the worker's user row,
then ledger accounts (in id order, by ``ledger.services.lock_accounts``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, WorkerProfile
from accounts.reauthentication import FreshSignIn, fresh_sign_in_check
from accounts.security_notices import security_notice_send
from accounts.selectors import user_is_treasurer
from core.audit import audit_record
from core.errors import AppError, PermissionDenied
from core.money import format_amount, platform_currency
from core.queue import queue_on_commit
from governance.selectors import RuleValue, rule_in_force
from ledger import accounts as ledger_accounts
from ledger import services as ledger
from ledger.selectors import balance
from notifications.selectors import moment_for
from payments import stripe_gateway
from payouts import notices, rails
from payouts.failures import failure_english
from payouts.models import (
    ConnectedAccount,
    FeeBearer,
    GlobalRecipient,
    Payout,
    PayoutMethod,
    PayoutQuote,
    PayoutRun,
    PayoutSchedule,
    Rail,
    SepaBatch,
)
from payouts.rails.coverage import country_name
from payouts.rails.sepa import pain001_build
from payouts.rails.stripe_connect import StripeConnectRail
from payouts.states import PAYOUT, SEPA_BATCH

logger = logging.getLogger(__name__)

FLOOR_RULE = "payout_minimum_floor"
FEE_BEARER_RULE = "payout_fee_workers_bear"
DESTINATION_HOLD_RULE = "payout_destination_hold_hours"
CODE_PAYOUT = "payout"
CODE_PAYOUT_RETURNED = "payout_returned"
CODE_PAYOUT_FEE = "payout_rail_fee"
# Rails whose provider quotes a rate that the worker must see and confirm first.
QUOTED_RAILS = frozenset({Rail.STRIPE_GLOBAL, Rail.WISE})
# Rails that need their provider's keys before a worker can choose them.
KEYED_RAILS = frozenset({Rail.STRIPE_GLOBAL, Rail.PAYPAL, Rail.WISE})
# Banks carry out a SEPA file on the next business day at the earliest.
SEPA_EXECUTION_DELAY = timedelta(days=1)
# Workers paid per transaction in a scheduled run. Small: each worker takes a few
# savepoints, and PostgreSQL slows down once a transaction has more than 64 of them.
RUN_CHUNK = 10


def _floor_versions(floor: RuleValue) -> dict[str, Any]:
    return {floor.key: {"version_id": floor.version_id, "value": floor.value}}


def _worker_country(user: User) -> str:
    country = WorkerProfile.objects.filter(user=user).values_list("country", flat=True).first()
    return (country or "").upper()


def _lock_worker(user: User) -> None:
    # The worker's own row serialises their method changes and payouts.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _require_treasurer(actor: User) -> None:
    if not user_is_treasurer(actor):
        raise PermissionDenied(_("Only the treasurer can do that."))


def _lock_payout(payout_id: int) -> Payout:
    return Payout.objects.select_for_update().get(pk=payout_id)


# -- payout methods -----------------------------------------------------------------


def _method_replace(
    *, user: User, rail: str, country: str, destination: rails.Destination, fresh_sign_in: FreshSignIn | None
) -> PayoutMethod:
    """The one writer of payout destinations, whichever rail: every add or change passes
    here, so the protections live here (issue 19): a fresh sign-in with the second factor
    where the person has one (``reauthentication_required``, 403, nothing written), an
    e-mail to the person, and a hold on the first payouts to the new destination for the
    governed ``payout_destination_hold_hours``."""
    fresh_sign_in_check(user=user, proof=fresh_sign_in)
    with transaction.atomic():
        _lock_worker(user)
        current = PayoutMethod.objects.select_for_update().filter(user=user, retired_at__isnull=True).first()
        if current is not None and current.rail == rail and current.destination == destination.data:
            return current
        before: dict[str, Any] = {}
        if current is not None:
            current.retired_at = timezone.now()
            current.save(update_fields=["retired_at"])
            before = {"rail": current.rail, "display": current.display}
        hold = rule_in_force(DESTINATION_HOLD_RULE)
        not_before = timezone.now() + timedelta(hours=hold.value)
        method = PayoutMethod.objects.create(
            user=user,
            rail=rail,
            country=country,
            destination=destination.data,
            display=destination.display,
            first_payout_not_before=not_before,
        )
        audit_record(
            actor=user,
            action="payout_method.chosen",
            target=method,
            before=before,
            after={
                "rail": rail,
                "display": destination.display,
                "country": country,
                "first_payout_not_before": not_before.isoformat(),
                "hold_rule_version": hold.version_id,
            },
        )
        security_notice_send(
            user=user,
            category="payout_destination_changed",
            params={
                "destination": destination.display,
                "previous": before["display"] if before else "—",
                "not_before": not_before,
                "hours": hold.value,
            },
            url="/work/payouts/",
        )
    return method


def payout_method_set(
    *, user: User, rail: str, details: dict[str, Any], fresh_sign_in: FreshSignIn | None
) -> PayoutMethod:
    """Makes a SEPA (or other offline-validated) destination the worker's payout method.

    The destination is validated offline by the rail (an IBAN with schwifty, the
    BIC derived where the bank is known). The previous method is retired, not
    edited, so the history stays. Payouts already created keep their destination.
    Choosing the current method again changes nothing. Raises ``country_required``,
    ``rail_not_available`` (rail not enabled for the worker's country),
    ``invalid_destination`` (with field errors), ``reauthentication_required``
    (``fresh_sign_in`` missing, stale or without the second factor); nothing is written
    then. Stripe Connect is chosen through ``stripe_onboarding_start``.
    """
    country = _worker_country(user)
    chosen = rails.rail_for_country(rail, country)
    if chosen.name in (Rail.STRIPE_CONNECT, Rail.STRIPE_GLOBAL):
        raise AppError(
            "use_stripe_onboarding",
            _("Stripe payouts are set up through Stripe's onboarding; start it from the Stripe option."),
        )
    if chosen.name != Rail.SEPA:
        rails.rail_require_configured(chosen)
    destination = chosen.validate_destination(country=country, details=details)
    register = getattr(chosen, "register_destination", None)
    if register is not None:
        # Checked before the details leave for the provider, so a refused change leaves nothing there.
        fresh_sign_in_check(user=user, proof=fresh_sign_in)
        # Providers that hold the bank details (Wise): sent once, only their id is kept.
        destination = register(destination=destination)
    return _method_replace(
        user=user, rail=chosen.name, country=country, destination=destination, fresh_sign_in=fresh_sign_in
    )


@dataclass(frozen=True, slots=True)
class OnboardingLink:
    method: PayoutMethod
    connected_account: ConnectedAccount | None
    url: str


def stripe_onboarding_start(
    *, user: User, return_url: str, refresh_url: str, fresh_sign_in: FreshSignIn | None
) -> OnboardingLink:
    """Makes Stripe Connect the worker's payout method and returns a fresh link to
    Stripe's hosted onboarding, where the worker enters their bank details.

    Creates the worker's connected account once (idempotency key per worker, so a
    retry after a lost response finds the same account). The method can be paid
    once Stripe's ``account.updated`` webhook reports payouts enabled. Raises
    ``country_required``, ``rail_not_available`` and the gateway's errors
    (``stripe_unavailable`` 503: try again; nothing is lost).
    """
    # Stripe's page is where the bank details are entered: the same protection first.
    fresh_sign_in_check(user=user, proof=fresh_sign_in)
    country = _worker_country(user)
    rail = rails.rail_for_country(Rail.STRIPE_CONNECT, country)
    connected = ConnectedAccount.objects.filter(user=user).first()
    if connected is None:
        account = stripe_gateway.connected_account_create(
            country=country,
            email=user.email,
            idempotency_key=f"connect:user:{user.pk}:account",
            metadata={"worker": user.pseudonym},
        )
        with transaction.atomic():
            connected, created = ConnectedAccount.objects.get_or_create(
                user=user,
                defaults={
                    "stripe_account_id": account.id,
                    "country": account.country or country,
                    "payouts_enabled": account.payouts_enabled,
                    "details_submitted": account.details_submitted,
                    "disabled_reason": account.disabled_reason,
                },
            )
            if created:
                audit_record(
                    actor=user, action="stripe_account.created", target=connected, after={"account": account.id}
                )
    destination = rail.validate_destination(country=country, details={"account": connected.stripe_account_id})
    method = _method_replace(
        user=user, rail=rail.name, country=country, destination=destination, fresh_sign_in=fresh_sign_in
    )
    url = stripe_gateway.account_onboarding_link_create(
        account_id=connected.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )
    return OnboardingLink(method=method, connected_account=connected, url=url)


def stripe_global_onboarding_start(
    *, user: User, return_url: str, refresh_url: str, fresh_sign_in: FreshSignIn | None
) -> OnboardingLink:
    """Makes Stripe Global Payouts the worker's payout method and returns a link to
    Stripe's hosted form, where the worker adds their local bank account or card.

    Creates the worker's v2 recipient Account once (key ``global:user:<id>:account``,
    so a retry after a lost response finds the same account); the method can be
    paid once Stripe reports the bank-account or card capability active. Raises
    ``country_required``, ``rail_not_available``, ``rail_not_configured`` and the
    gateway's errors (``stripe_unavailable`` 503: nothing was written).
    """
    country = _worker_country(user)
    rail = rails.rail_for_country(Rail.STRIPE_GLOBAL, country)
    rails.rail_require_configured(rail)
    # Checked before an account is made at Stripe, so a refused change leaves nothing there.
    fresh_sign_in_check(user=user, proof=fresh_sign_in)
    recipient = GlobalRecipient.objects.filter(user=user).first()
    if recipient is None:
        account = stripe_gateway.recipient_account_create(
            country=country,
            email=user.email,
            display_name=user.pseudonym,
            idempotency_key=f"global:user:{user.pk}:account",
            metadata={"worker": user.pseudonym},
        )
        with transaction.atomic():
            recipient, created = GlobalRecipient.objects.get_or_create(
                user=user,
                defaults={
                    "stripe_account_id": account.id,
                    "country": account.country or country,
                    "bank_status": account.bank_status,
                    "card_status": account.card_status,
                },
            )
            if created:
                audit_record(
                    actor=user, action="global_recipient.created", target=recipient, after={"account": account.id}
                )
    destination = rail.validate_destination(country=country, details={"account": recipient.stripe_account_id})
    method = _method_replace(
        user=user, rail=rail.name, country=country, destination=destination, fresh_sign_in=fresh_sign_in
    )
    url = stripe_gateway.recipient_onboarding_link_create(
        account_id=recipient.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )
    return OnboardingLink(method=method, connected_account=None, url=url)


def global_recipient_update(*, account: stripe_gateway.RecipientAccount) -> GlobalRecipient | None:
    """Applies Stripe's current view of a recipient Account (fetched after a v2 event,
    so order does not matter). Returns None for an account that is not a worker's."""
    with transaction.atomic():
        recipient = GlobalRecipient.objects.select_for_update().filter(stripe_account_id=account.id).first()
        if recipient is None:
            return None
        before = {"bank_status": recipient.bank_status, "card_status": recipient.card_status}
        after = {"bank_status": account.bank_status, "card_status": account.card_status}
        if before != after:
            recipient.bank_status = account.bank_status
            recipient.card_status = account.card_status
            recipient.save(update_fields=["bank_status", "card_status", "updated_at"])
            audit_record(actor=None, action="global_recipient.updated", target=recipient, before=before, after=after)
    return recipient


def connected_account_update(*, account: stripe_gateway.ConnectedAccount, as_of: int) -> ConnectedAccount | None:
    """Applies Stripe's ``account.updated``: whether the worker can be paid.

    Order-independent: an event older than the last one applied (Stripe's
    ``created``) changes nothing; a repeat changes nothing. Returns None for an
    account that is not a worker's.
    """
    with transaction.atomic():
        connected = ConnectedAccount.objects.select_for_update().filter(stripe_account_id=account.id).first()
        if connected is None or as_of < connected.state_as_of:
            return connected
        before = {"payouts_enabled": connected.payouts_enabled, "disabled_reason": connected.disabled_reason}
        became_enabled = account.payouts_enabled and not connected.payouts_enabled
        connected.payouts_enabled = account.payouts_enabled
        connected.details_submitted = account.details_submitted
        connected.disabled_reason = account.disabled_reason[:100]
        connected.state_as_of = as_of
        fields = ["payouts_enabled", "details_submitted", "disabled_reason", "state_as_of", "updated_at"]
        if became_enabled:
            connected.payouts_enabled_at = timezone.now()
            fields.append("payouts_enabled_at")
        connected.save(update_fields=fields)
        after = {"payouts_enabled": connected.payouts_enabled, "disabled_reason": connected.disabled_reason}
        if after != before:
            audit_record(actor=None, action="stripe_account.updated", target=connected, before=before, after=after)
    return connected


# -- schedule -----------------------------------------------------------------------


def payout_schedule_set(*, user: User, frequency: str, minimum_amount: int) -> PayoutSchedule:
    """Sets when the worker is paid automatically: weekly, daily or only on request,
    once the balance reaches ``minimum_amount`` (minor units).

    The minimum must be at least the governed ``payout_minimum_floor`` in force;
    its version is recorded. Raises ``invalid`` or ``minimum_below_floor`` and
    writes nothing.
    """
    if frequency not in PayoutSchedule.Frequency.values:
        raise AppError(
            "invalid",
            _("'%(frequency)s' is not a schedule; choose weekly, daily or on_request.") % {"frequency": frequency},
            fields={"frequency": [_("Unknown schedule.")]},
        )
    floor = rule_in_force(FLOOR_RULE)
    if not isinstance(minimum_amount, int) or minimum_amount < floor.value:
        currency = platform_currency()
        raise AppError(
            "minimum_below_floor",
            _(
                "The minimum payout must be at least %(amount)s (the co-op's “Payout minimum floor” "
                "rule); you asked for %(amount2)s."
            )
            % {"amount": format_amount(floor.value, currency), "amount2": format_amount(int(minimum_amount), currency)},
            fields={"minimum_amount": [_("At least %(amount)s.") % {"amount": format_amount(floor.value, currency)}]},
            details={"floor": floor.value, "rule_version_id": floor.version_id},
        )
    with transaction.atomic():
        _lock_worker(user)
        schedule = PayoutSchedule.objects.select_for_update().filter(user=user).first()
        before: dict[str, Any] = {}
        if schedule is None:
            schedule = PayoutSchedule(user=user)
        else:
            before = {"frequency": schedule.frequency, "minimum_amount": schedule.minimum_amount}
        schedule.frequency = frequency
        schedule.minimum_amount = minimum_amount
        schedule.floor_rule_version_id = floor.version_id
        schedule.save()
        audit_record(
            actor=user,
            action="payout_schedule.set",
            target=schedule,
            before=before,
            after={"frequency": frequency, "minimum_amount": minimum_amount, "floor_version": floor.version_id},
        )
    return schedule


# -- creating payouts ---------------------------------------------------------------


def _current_method(user: User) -> PayoutMethod:
    method = PayoutMethod.objects.filter(user=user, retired_at__isnull=True).first()
    if method is None:
        raise AppError("no_payout_method", _("Choose a payout method first."), status=409)
    return method


def _rail_ready_for(method: PayoutMethod, *, country: str) -> rails.PayoutRail:
    """The method's rail if it may pay now: enabled, serving the worker's country and
    the platform currency, configured on this server, and the method verified."""
    if method.rail not in rails.enabled_rail_names():
        raise AppError(
            "rail_not_available",
            _("Your payout method is no longer offered; choose another one to be paid."),
            status=409,
        )
    rail = rails.rail_get(method.rail)
    if country and country not in rail.countries:
        raise AppError(
            "country_not_supported",
            _("%(label)s does not pay workers in %(country)s; choose a payout method offered in your country.")
            % {"label": rail.label, "country": country_name(country)},
            status=409,
            details={"country": country},
        )
    currency = platform_currency().upper()
    if currency not in rail.currencies:
        raise AppError(
            "currency_not_supported",
            _("%(label)s cannot be funded in %(currency)s, the co-op's currency; choose another payout method.")
            % {"label": rail.label, "currency": currency},
            status=409,
        )
    if rail.name in KEYED_RAILS:
        rails.rail_require_configured(rail)
    not_ready = rail.not_ready_reason(method=method)
    if not_ready:
        raise AppError("payout_method_not_ready", not_ready, status=409)
    return rail


def _bounds_check(rail: rails.PayoutRail, amount: int, currency: str) -> None:
    if amount < rail.min_amount:
        raise AppError(
            "amount_below_rail_minimum",
            _("%(label)s pays at least %(amount)s; %(amount2)s is too little.")
            % {
                "label": rail.label,
                "amount": format_amount(rail.min_amount, currency),
                "amount2": format_amount(amount, currency),
            },
            status=409,
            fields={"amount": [_("At least %(amount)s.") % {"amount": format_amount(rail.min_amount, currency)}]},
        )
    if amount > rail.max_amount:
        raise AppError(
            "amount_above_rail_maximum",
            _("%(label)s pays at most %(amount)s at a time; ask for that much or less.")
            % {"label": rail.label, "amount": format_amount(rail.max_amount, currency)},
            status=409,
            fields={"amount": [_("At most %(amount)s.") % {"amount": format_amount(rail.max_amount, currency)}]},
        )


def _wanted_amount(*, amount: int | None, available: int, floor: RuleValue, currency: str) -> int:
    wanted = available if amount is None else amount
    if wanted <= 0:
        raise AppError(
            "nothing_to_pay",
            _("Your balance is %(amount)s; there is nothing to pay out.")
            % {"amount": format_amount(available, currency)},
            status=409,
        )
    if wanted > available:
        raise AppError(
            "amount_above_balance",
            _("You asked for %(amount)s but your balance is %(amount2)s; ask for that much or less.")
            % {"amount": format_amount(wanted, currency), "amount2": format_amount(available, currency)},
            status=409,
            fields={"amount": [_("At most %(amount)s.") % {"amount": format_amount(available, currency)}]},
            details={"available": available},
        )
    if wanted < floor.value:
        raise AppError(
            "amount_below_floor",
            _("A payout must be at least %(amount)s (the co-op's “Payout minimum floor” rule); you have %(amount2)s.")
            % {"amount": format_amount(floor.value, currency), "amount2": format_amount(available, currency)},
            status=409,
            fields={"amount": [_("At least %(amount)s.") % {"amount": format_amount(floor.value, currency)}]},
        )
    return wanted


def _priced(
    *, rail: rails.PayoutRail, method: PayoutMethod, wanted: int, currency: str, bearer: RuleValue, key: str
) -> rails.Quote:
    """The rail's quote for ``wanted``; when the workers bear fees, re-quoted for what
    is left after the fee, so that the amount sent plus its fee is at most ``wanted``."""
    _bounds_check(rail, wanted, currency)
    quote = rail.quote(amount=wanted, currency=currency, method=method, key=f"{key}:gross")
    if bearer.value and quote.fee:
        net = wanted - quote.fee
        if net <= 0:
            raise AppError(
                "amount_below_rail_minimum",
                _("The fee of %(amount)s is more than the payout; ask for more.")
                % {"amount": format_amount(quote.fee, currency)},
                status=409,
            )
        _bounds_check(rail, net, currency)
        quote = rail.quote(amount=net, currency=currency, method=method, key=f"{key}:net")
    return quote


def payout_quote_create(*, user: User, amount: int | None = None) -> PayoutQuote:
    """Asks the worker's current rail what paying ``amount`` (None: the whole
    available balance) costs and delivers: fee, rate, amount in their currency and
    until when it holds. Nothing is reserved; ``payout_request(quote_id=...)`` does that.

    Raises, writing nothing: ``no_payout_method``, ``rail_not_available``,
    ``country_not_supported``, ``currency_not_supported``, ``rail_not_configured``,
    ``payout_method_not_ready`` (recipient not verified), ``nothing_to_pay``,
    ``amount_above_balance``, ``amount_below_floor``, ``amount_below_rail_minimum``,
    ``amount_above_rail_maximum``, and the provider's ``*_unavailable`` (503).
    """
    if amount is not None and (not isinstance(amount, int) or amount <= 0):
        raise AppError(
            "invalid_amount", _("The amount must be more than zero."), fields={"amount": [_("Must be > 0.")]}
        )
    method = _current_method(user)
    rail = _rail_ready_for(method, country=_worker_country(user))
    earnings = ledger_accounts.worker_earnings(user)
    currency = earnings.currency
    wanted = _wanted_amount(
        amount=amount, available=balance(earnings).available, floor=rule_in_force(FLOOR_RULE), currency=currency
    )
    bearer = rule_in_force(FEE_BEARER_RULE)
    priced = _priced(
        rail=rail,
        method=method,
        wanted=wanted,
        currency=currency,
        bearer=bearer,
        key=f"quote:user:{user.pk}:{secrets.token_hex(8)}",
    )
    return PayoutQuote.objects.create(
        user=user,
        method=method,
        rail=rail.name,
        amount=priced.amount,
        currency=currency,
        fee=priced.fee,
        fee_bearer=FeeBearer.WORKER if bearer.value else FeeBearer.COOP,
        rule_versions={bearer.key: {"version_id": bearer.version_id, "value": bearer.value}},
        rate=priced.rate,
        destination_amount=priced.destination_amount,
        destination_currency=priced.destination_currency,
        expires_at=priced.expires_at,
        reference=priced.reference,
    )


def _fee_account(payout: Payout) -> Any:
    return (
        ledger_accounts.worker_earnings(payout.user)
        if payout.fee_bearer == FeeBearer.WORKER
        else ledger_accounts.coop_payout_fees()
    )


def _payout_create(
    *, user: User, amount: int | None, run: PayoutRun | None, floor: RuleValue, quote: PayoutQuote | None = None
) -> Payout:
    method = _current_method(user)
    rail = _rail_ready_for(method, country=_worker_country(user))
    earnings = ledger_accounts.worker_earnings(user)
    external = rail.ledger_account()
    currency = earnings.currency
    with transaction.atomic():
        _lock_worker(user)
        if run is not None:
            existing = Payout.objects.filter(user=user, run=run).first()
            if existing is not None:
                return existing
        if quote is not None:
            quote = PayoutQuote.objects.select_for_update().get(pk=quote.pk)
            already = Payout.objects.filter(quote=quote).first()
            if already is not None:
                return already  # the same confirmation again (a lost answer): one payout
            if quote.user_id != user.pk or quote.method_id != method.pk:
                raise AppError(
                    "quote_stale",
                    _("Your payout method changed since this estimate; ask for a new estimate."),
                    status=409,
                )
            if quote.expires_at is not None and quote.expires_at <= timezone.now():
                raise AppError(
                    "quote_expired",
                    _("The estimate expired at %(expires_at)s; ask for a new one (rates move).")
                    % {"expires_at": moment_for(user=user, moment=quote.expires_at)},
                    status=409,
                    details={"expired_at": quote.expires_at.isoformat()},
                )
        elif rail.name in QUOTED_RAILS:
            raise AppError(
                "quote_required",
                _("%(label)s converts currency: ask for an estimate, check it, then confirm the payout.")
                % {"label": rail.label},
                status=409,
            )
        ledger.lock_accounts(sorted({earnings.pk, external.pk, ledger_accounts.coop_payout_fees().pk}))
        available = balance(earnings).available
        if quote is None:
            wanted = _wanted_amount(amount=amount, available=available, floor=floor, currency=currency)
            bearer = rule_in_force(FEE_BEARER_RULE)
            priced = _priced(rail=rail, method=method, wanted=wanted, currency=currency, bearer=bearer, key="")
            fee_bearer: str = FeeBearer.WORKER if bearer.value else FeeBearer.COOP
            fee_versions = {bearer.key: {"version_id": bearer.version_id, "value": bearer.value}}
        else:
            priced = rails.Quote(
                amount=quote.amount,
                fee=quote.fee,
                rate=quote.rate,
                destination_amount=quote.destination_amount,
                destination_currency=quote.destination_currency,
                expires_at=quote.expires_at,
                reference=quote.reference,
            )
            fee_bearer = quote.fee_bearer
            fee_versions = dict(quote.rule_versions)
        worker_fee = priced.fee if fee_bearer == FeeBearer.WORKER else 0
        if quote is not None:
            _wanted_amount(amount=priced.amount + worker_fee, available=available, floor=floor, currency=currency)
        held_until = method.first_payout_not_before
        if held_until is not None and held_until <= timezone.now():
            held_until = None
        payout = Payout.objects.create(
            user=user,
            method=method,
            rail=method.rail,
            destination=method.destination,
            display=method.display,
            held_until=held_until,
            amount=priced.amount,
            currency=currency,
            run=run,
            rule_versions={**_floor_versions(floor), **fee_versions},
            quote=quote,
            quote_reference=priced.reference,
            fee=priced.fee,
            fee_bearer=fee_bearer,
            rate=priced.rate,
            destination_amount=priced.destination_amount,
            destination_currency=priced.destination_currency,
            quote_expires_at=priced.expires_at,
        )
        ledger.transfer(
            transfer_id=payout.ledger_pending_id,
            debit=earnings,
            credit=external,
            amount=payout.amount,
            code=CODE_PAYOUT,
            memo=f"payout {payout.pk} via {payout.rail}",
            pending=True,
        )
        if worker_fee:
            ledger.transfer(
                transfer_id=f"{payout.ledger_pending_id}:fee",
                debit=earnings,
                credit=external,
                amount=worker_fee,
                code=CODE_PAYOUT_FEE,
                memo=f"{payout.rail} fee of payout {payout.pk}, borne by the worker",
                pending=True,
            )
        audit_record(
            actor=user if run is None else None,
            action="payout.created",
            target=payout,
            after={
                "amount": payout.amount,
                "fee": payout.fee,
                "fee_bearer": fee_bearer,
                "rail": payout.rail,
                "run": run.key if run else None,
                "destination": f"{payout.destination_amount} {payout.destination_currency}",
            },
        )
        if rail.submission == "api" and held_until is None:  # a held one goes with payouts_resume
            queue_on_commit("payouts.jobs.payout_submit", payout_id=payout.pk)
    return payout


def payout_request(*, user: User, amount: int | None = None, quote_id: int | None = None) -> Payout:
    """Pays the worker now, whatever their schedule: the confirmed quote ``quote_id``,
    or ``amount`` minor units (None: the whole available balance) on a rail that
    needs no quote.

    The amount (and a fee the worker bears) is reserved in the ledger in the same
    transaction that creates the payout; API rails are submitted by a job after
    commit. Confirming the same quote twice returns the first payout. Raises,
    writing nothing: ``no_payout_method``, ``payout_method_not_ready``,
    ``quote_required``, ``quote_expired``, ``quote_stale``, ``nothing_to_pay``,
    ``amount_above_balance``, ``amount_below_floor``, ``amount_below_rail_minimum``,
    ``amount_above_rail_maximum``, ``country_not_supported``,
    ``currency_not_supported``, ``rail_not_configured`` (all 409). A suspended
    worker is paid like anyone else.
    """
    if amount is not None and (not isinstance(amount, int) or amount <= 0):
        raise AppError(
            "invalid_amount", _("The amount must be more than zero."), fields={"amount": [_("Must be > 0.")]}
        )
    quote = None
    if quote_id is not None:
        quote = PayoutQuote.objects.filter(pk=quote_id, user=user).first()
        if quote is None:
            raise AppError("quote_not_found", _("There is no such estimate of yours; ask for a new one."), status=404)
    return _payout_create(user=user, amount=amount, run=None, floor=rule_in_force(FLOOR_RULE), quote=quote)


def payout_cancel_held(*, user: User, payout_id: int) -> Payout:
    """Cancels the worker's own payout while it waits out a new destination's hold: the
    money goes back to their balance (the payout fails with ``cancelled_by_worker``).
    Refused with ``not_found`` (404, someone else's) or ``payout_not_held`` (409, already
    sent or its hold is over); nothing changes then."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(pk=payout_id, user=user).first()
        if payout is None:
            raise AppError("not_found", _("No such payout."), status=404)
        if (
            payout.state != Payout.State.CREATED
            or payout.batch_id is not None
            or payout.held_until is None
            or payout.held_until <= timezone.now()
        ):
            raise AppError(
                "payout_not_held",
                _("Only a payout waiting for a new destination's hold can be cancelled; this one is on its way."),
                status=409,
            )
        # Under the same lock, so the submission job cannot send it meanwhile.
        return payout_fail(
            payout_id=payout.pk,
            code="cancelled_by_worker",
            reason="cancelled_by_worker",
            actor=user,
        )


def run_key(*, frequency: str, at: datetime) -> str:
    day = timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
    if frequency == PayoutSchedule.Frequency.DAILY:
        return f"daily:{day.isoformat()}"
    year, week, _created = day.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def payout_run_execute(*, frequency: str, at: datetime | None = None) -> PayoutRun:
    """Pays every worker on the ``frequency`` schedule whose balance reached their
    minimum (and the governed floor in force), once per run (``run_key``).

    Safe to run any number of times: a worker already paid in this run is skipped
    (a unique constraint backs this). Workers who cannot be paid now (Stripe
    onboarding unfinished, no method) are skipped and keep their balance. SEPA
    payouts of the run are gathered into a batch for the treasurer.
    """
    from payouts.selectors import payout_run_candidates

    if frequency not in (PayoutSchedule.Frequency.DAILY, PayoutSchedule.Frequency.WEEKLY):
        raise AppError("invalid", _("'%(frequency)s' is not a scheduled frequency.") % {"frequency": frequency})
    moment = at or timezone.now()
    floor = rule_in_force(FLOOR_RULE, at=moment)
    run, _created = PayoutRun.objects.get_or_create(
        key=run_key(frequency=frequency, at=moment),
        defaults={"frequency": frequency, "rule_versions": _floor_versions(floor)},
    )
    # Unfinished until the end: a crash anywhere in between leaves it for the resume job.
    PayoutRun.objects.filter(pk=run.pk, finished_at__isnull=False).update(finished_at=None)
    unfinished = False
    candidates = list(payout_run_candidates(frequency=frequency, floor=floor.value, run=run))
    # One commit per chunk rather than per worker: commits dominate the cost of a run.
    # Each worker still gets its own savepoint, so one refusal skips only that worker. A
    # chunk that crashes is rolled back whole and the run goes on; the run then stays
    # unfinished and ``payouts.jobs.payouts_resume`` runs it again (a worker paid in this
    # run is never a candidate twice).
    quoted_users = set(
        PayoutMethod.objects.filter(
            user__in=candidates, retired_at__isnull=True, rail__in=list(QUOTED_RAILS)
        ).values_list("user_id", flat=True)
    )
    for start in range(0, len(candidates), RUN_CHUNK):
        chunk = candidates[start : start + RUN_CHUNK]
        # Rails that quote a rate are asked outside the transaction (a network call).
        quotes: dict[int, PayoutQuote] = {}
        for user in chunk:
            if user.pk in quoted_users and not Payout.objects.filter(user=user, run=run).exists():
                try:
                    quotes[user.pk] = payout_quote_create(user=user)
                except AppError as error:
                    logger.info("payout run %s could not quote worker %s: %s", run.key, user.pk, error.code)
        in_chunk = 0
        try:
            with transaction.atomic():
                for user in chunk:
                    if user.pk in quoted_users and user.pk not in quotes:
                        continue
                    try:
                        payout = _payout_create(user=user, amount=None, run=run, floor=floor, quote=quotes.get(user.pk))
                    except AppError as error:
                        logger.info("payout run %s skipped worker %s: %s", run.key, user.pk, error.code)
                        continue
                    in_chunk += int(payout.run_id == run.pk)
                # Counted with the chunk's payouts, so a crash after it cannot lose the count.
                PayoutRun.objects.filter(pk=run.pk).update(payouts_created=F("payouts_created") + in_chunk)
        except Exception:
            logger.exception("payout run %s: a chunk failed; the run is resumed later", run.key)
            unfinished = True
            continue
    PayoutRun.objects.filter(pk=run.pk).update(finished_at=None if unfinished else timezone.now())
    if Payout.objects.filter(run=run, rail=Rail.SEPA, batch__isnull=True, state=Payout.State.CREATED).exists():
        try:
            sepa_batch_create(actor=None)
        except AppError as error:
            if error.code != "nothing_to_batch":  # a concurrent run batched them first
                raise
    run.refresh_from_db()
    return run


# -- submitting (API rails) -----------------------------------------------------------


def payout_submit(*, payout_id: int) -> Payout:
    """Sends a created payout through its API rail and records the rail's references.

    Idempotent and crash-safe: the rail's idempotency keys derive from the payout
    id, so running it again after a crash between the rail's answer and the
    record gets the same transfer back. A payout no longer ``created`` is left
    alone. A refusal by the rail fails the payout (money back to the balance,
    reason recorded); ``stripe_unavailable`` propagates and the payout stays
    ``created`` for ``payouts_resume`` to retry.
    """
    payout = Payout.objects.get(pk=payout_id)
    rail = rails.rail_get(payout.rail)
    if rail.submission != "api" or payout.state == Payout.State.FAILED:
        return payout
    if payout.held_until is not None and payout.held_until > timezone.now():
        return payout  # the destination is new: payouts_resume sends it once the hold is over
    if payout.state != Payout.State.CREATED:
        if payout.stripe_transfer_id or payout.rail_reference:
            return payout
        # Settled by a webhook before a crashed job recorded the submission: ask again
        # (Stripe replays its first answers) only to record the references.
        try:
            submission = rail.submit(payout=payout)
        except rails.RailRefused:
            return payout
        return _submission_record(payout_id=payout.pk, references=submission.references)
    try:
        submission = rail.submit(payout=payout)
    except rails.RailRefused as refused:
        return payout_fail(
            payout_id=payout.pk, code=refused.rail_code or "refused", reason=refused.sentence, detail=refused.detail
        )
    return _submission_record(payout_id=payout.pk, references=submission.references)


def payout_reference_record(*, payout_id: int, references: dict[str, str]) -> Payout:
    """Records the rail's ids for a payout and marks it submitted if it was only
    created (a provider event can arrive before the submitting job recorded them)."""
    return _submission_record(payout_id=payout_id, references=references)


def _submission_record(*, payout_id: int, references: dict[str, str]) -> Payout:
    with transaction.atomic():
        payout = _lock_payout(payout_id)
        fields: list[str] = []
        for name, value in references.items():
            if getattr(payout, name) != value:
                setattr(payout, name, value)
                fields.append(name)
        if payout.state == Payout.State.CREATED:
            payout.state = PAYOUT.target(payout.state, "submit")
            payout.submitted_at = timezone.now()
            fields += ["state", "submitted_at"]
            notices.payouts_sent([payout])
        if fields:
            payout.save(update_fields=fields)
            audit_record(actor=None, action="payout.submitted", target=payout, after=dict(references))
    return payout


# -- settling -------------------------------------------------------------------------


def payout_pay(*, payout_id: int, actor: User | None = None, arrived_amount: int | None = None) -> Payout:
    """Marks the payout paid and posts its reservation: the money has left for good.
    Records ``arrived_amount`` (destination currency; None: the quoted amount) and
    books the rail's fee as its own ledger line (``payout:<id>:fee``): posted from
    the worker's reservation when the worker bears it, from the co-op's payout-fee
    account otherwise.

    Exactly once: paying a paid payout returns it unchanged. Raises
    ``invalid_state`` (409) for a failed one.
    """
    with transaction.atomic():
        payout = _lock_payout(payout_id)
        if payout.state == Payout.State.PAID:
            return payout
        before = payout.state
        payout.state = PAYOUT.target(payout.state, "pay")
        ledger.post_pending(transfer_id=f"{payout.ledger_pending_id}:post", pending_id=payout.ledger_pending_id)
        if payout.fee and payout.fee_bearer == FeeBearer.WORKER:
            ledger.post_pending(
                transfer_id=f"{payout.ledger_pending_id}:fee:post", pending_id=f"{payout.ledger_pending_id}:fee"
            )
        elif payout.fee:
            ledger.transfer(
                transfer_id=f"{payout.ledger_pending_id}:fee",
                debit=ledger_accounts.coop_payout_fees(),
                credit=rails.rail_get(payout.rail).ledger_account(),
                amount=payout.fee,
                code=CODE_PAYOUT_FEE,
                memo=f"{payout.rail} fee of payout {payout.pk}, borne by the co-op",
            )
        if arrived_amount is None:
            arrived_amount = payout.destination_amount if payout.destination_amount is not None else payout.amount
        payout.arrived_amount = arrived_amount
        payout.paid_at = timezone.now()
        payout.save(update_fields=["state", "paid_at", "arrived_amount"])
        notices.payout_paid(payout)
        audit_record(
            actor=actor,
            action="payout.paid",
            target=payout,
            before={"state": before},
            after={"state": Payout.State.PAID, "arrived": arrived_amount, "fee": payout.fee},
        )
    return payout


def _queue_after_failure(payout: Payout) -> None:
    if (payout.stripe_transfer_id or payout.stripe_payout_id) and not payout.stripe_reversal_id:
        queue_on_commit("payouts.jobs.payout_transfer_reverse", payout_id=payout.pk)
    notices.payout_failed(payout)


def payout_fail(*, payout_id: int, code: str, reason: str, detail: str = "", actor: User | None = None) -> Payout:
    """Marks the payout failed and voids its reservation: the whole amount is back in
    the worker's balance, and the sentence ``reason`` (``payouts.failures``, with the
    rail's or bank's words as ``detail``) tells them why, in their language.

    A payout already failed is returned unchanged. A paid payout that the rail
    returns is credited back (``payout_return``). A Stripe transfer that reached
    the worker's connected account is reversed by a job after commit.
    """
    with transaction.atomic():
        payout = _lock_payout(payout_id)
        if payout.state == Payout.State.FAILED:
            return payout
        if payout.state == Payout.State.PAID:
            return payout_return(payout_id=payout_id, code=code, reason=reason, detail=detail, actor=actor)
        before = payout.state
        payout.state = PAYOUT.target(payout.state, "fail")
        ledger.void_pending(transfer_id=f"{payout.ledger_pending_id}:void", pending_id=payout.ledger_pending_id)
        if payout.fee and payout.fee_bearer == FeeBearer.WORKER:
            ledger.void_pending(
                transfer_id=f"{payout.ledger_pending_id}:fee:void", pending_id=f"{payout.ledger_pending_id}:fee"
            )
        payout.failure_code = code[:60]
        payout.failure_reason = reason
        payout.failure_detail = detail[:200]
        payout.failure_message = failure_english(reason, payout.failure_detail)[:300]
        payout.failed_at = timezone.now()
        payout.save(
            update_fields=["state", "failure_code", "failure_reason", "failure_detail", "failure_message", "failed_at"]
        )
        audit_record(
            actor=actor,
            action="payout.failed",
            target=payout,
            before={"state": before},
            after={"state": Payout.State.FAILED, "code": payout.failure_code, "message": payout.failure_message},
        )
        _queue_after_failure(payout)
    return payout


def payout_return(*, payout_id: int, code: str, reason: str, detail: str = "", actor: User | None = None) -> Payout:
    """A payout reported paid came back from the bank: credits the amount back to the
    worker's balance (``payout:<id>:returned``) and marks it failed. Exactly once."""
    with transaction.atomic():
        payout = _lock_payout(payout_id)
        if payout.state == Payout.State.FAILED:
            return payout
        payout.state = PAYOUT.target(payout.state, "return")
        rail = rails.rail_get(payout.rail)
        ledger.transfer(
            transfer_id=f"{payout.ledger_pending_id}:returned",
            debit=rail.ledger_account(),
            credit=ledger_accounts.worker_earnings(payout.user),
            amount=payout.amount,
            code=CODE_PAYOUT_RETURNED,
            memo=f"payout {payout.pk} returned",
        )
        if payout.fee and payout.fee_bearer == FeeBearer.WORKER:
            # The worker is not charged for a payout that never reached them: the co-op
            # absorbs the spent fee.
            ledger.transfer(
                transfer_id=f"{payout.ledger_pending_id}:fee:returned",
                debit=ledger_accounts.coop_payout_fees(),
                credit=ledger_accounts.worker_earnings(payout.user),
                amount=payout.fee,
                code=CODE_PAYOUT_RETURNED,
                memo=f"fee of returned payout {payout.pk}, absorbed by the co-op",
            )
        payout.failure_code = code[:60]
        payout.failure_reason = reason
        payout.failure_detail = detail[:200]
        payout.failure_message = failure_english(reason, payout.failure_detail)[:300]
        payout.failed_at = timezone.now()
        payout.save(
            update_fields=["state", "failure_code", "failure_reason", "failure_detail", "failure_message", "failed_at"]
        )
        audit_record(
            actor=actor,
            action="payout.returned",
            target=payout,
            before={"state": Payout.State.PAID},
            after={"state": Payout.State.FAILED, "code": payout.failure_code, "message": payout.failure_message},
        )
        _queue_after_failure(payout)
    return payout


def payout_transfer_reverse(*, payout_id: int) -> Payout:
    """Brings a failed Stripe payout's transfer back from the worker's connected
    account to the platform balance, so Stripe matches the ledger's void. Idempotent."""
    payout = Payout.objects.get(pk=payout_id)
    if payout.state != Payout.State.FAILED or payout.stripe_reversal_id:
        return payout
    transfer_id = payout.stripe_transfer_id
    if not transfer_id and payout.stripe_payout_id and payout.rail == Rail.STRIPE_CONNECT:
        # A bank payout exists, so its transfer does; the crashed job never recorded
        # its id. The same idempotency key replays it instead of transferring again.
        transfer_id = StripeConnectRail().transfer(payout=payout).id
    if not transfer_id:
        return payout
    try:
        reversal_id = stripe_gateway.transfer_reverse(
            transfer_id=transfer_id,
            idempotency_key=f"payout:{payout.pk}:reversal",
            metadata={"payout_id": str(payout.pk)},
        )
    except stripe_gateway.StripeRefused as refused:
        if refused.stripe_code != "transfer_already_reversed":
            raise
        reversal_id = "already_reversed"
    with transaction.atomic():
        payout = _lock_payout(payout_id)
        if not payout.stripe_reversal_id:
            payout.stripe_reversal_id = reversal_id
            payout.stripe_transfer_id = transfer_id
            payout.save(update_fields=["stripe_reversal_id", "stripe_transfer_id"])
            audit_record(actor=None, action="payout.transfer_reversed", target=payout, after={"reversal": reversal_id})
    return payout


# -- Stripe's word on a payout (called by payouts.stripe_events) ------------------------


def stripe_payout_paid(*, payout: Payout, stripe_payout_id: str) -> Payout:
    """``payout.paid``: the connected account's bank payout arrived. Idempotent; after
    a failure (events can arrive out of order) it changes nothing."""
    if payout.state in (Payout.State.PAID, Payout.State.FAILED):
        return payout
    with transaction.atomic():
        _submission_record(payout_id=payout.pk, references={"stripe_payout_id": stripe_payout_id})
        return payout_pay(payout_id=payout.pk)


def stripe_payout_failed(*, payout: Payout, stripe_payout_id: str, code: str, message: str) -> Payout:
    """``payout.failed`` / ``payout.canceled``: the bank refused or returned it.
    The money comes back to the worker's balance with the bank's reason."""
    with transaction.atomic():
        if payout.state in (Payout.State.CREATED, Payout.State.SUBMITTED):
            _submission_record(payout_id=payout.pk, references={"stripe_payout_id": stripe_payout_id})
        return payout_fail(
            payout_id=payout.pk, code=code or "bank_refused", reason="stripe_bank_refused", detail=message or code
        )


def stripe_transfer_reversed(*, payout: Payout) -> Payout:
    """``transfer.reversed``: the transfer came back from the connected account before
    the bank payout settled. After a paid payout it only leaves an audit row for the
    treasurer: the ledger already posted it and reconciliation will show the gap."""
    if payout.state == Payout.State.PAID:
        with transaction.atomic():
            audit_record(
                actor=None, action="payout.reversed_after_paid", target=payout, after={"state": Payout.State.PAID}
            )
        return payout
    return payout_fail(
        payout_id=payout.pk,
        code="transfer_reversed",
        reason="stripe_transfer_reversed",
    )


# -- SEPA batches (the treasurer) ---------------------------------------------------------


def _new_message_id(moment: datetime) -> str:
    return f"COOP-PO-{moment:%Y%m%d%H%M%S}-{secrets.token_hex(3).upper()}"


def sepa_batch_create(*, actor: User | None, execution_date: date | None = None) -> SepaBatch:
    """Gathers every SEPA payout not yet in a file into one new batch (state ``open``).

    ``actor`` None is the payout run job; a person must be the treasurer. Raises
    ``nothing_to_batch`` (409) when no SEPA payout waits. The file itself is built
    on download (``sepa_batch_file``) from the stored message id and time.
    """
    if actor is not None:
        _require_treasurer(actor)
    now = timezone.now()
    with transaction.atomic():
        payouts = list(
            Payout.objects.select_for_update()
            .filter(rail=Rail.SEPA, state=Payout.State.CREATED, batch__isnull=True)
            .exclude(held_until__gt=now)  # a new destination's hold is not over
            .order_by("id")
        )
        if not payouts:
            raise AppError("nothing_to_batch", _("No SEPA payout is waiting for a bank file."), status=409)
        currencies = {payout.currency for payout in payouts}
        if len(currencies) != 1:
            raise AppError(
                "mixed_currencies", _("SEPA payouts in different currencies cannot share a file."), status=409
            )
        batch = SepaBatch.objects.create(
            message_id=_new_message_id(now),
            currency=currencies.pop(),
            payment_count=len(payouts),
            total_amount=sum(payout.amount for payout in payouts),
            execution_date=execution_date or (timezone.localdate(now) + SEPA_EXECUTION_DELAY),
            created_by=actor,
        )
        Payout.objects.filter(pk__in=[payout.pk for payout in payouts]).update(batch=batch)
        audit_record(
            actor=actor,
            action="sepa_batch.created",
            target=batch,
            after={"message_id": batch.message_id, "count": batch.payment_count, "total": batch.total_amount},
        )
    return batch


def sepa_batch_file(*, batch: SepaBatch) -> bytes:
    """The batch's pain.001 file; the same bytes every time it is downloaded."""
    return pain001_build(
        message_id=batch.message_id,
        created_at=batch.created_at,
        execution_date=batch.execution_date,
        payments=list(batch.payouts.order_by("id")),
    )


def sepa_batch_mark_sent(*, batch_id: int, actor: User) -> SepaBatch:
    """The treasurer handed the file to the bank: the batch and its payouts become
    ``sent`` / ``submitted``. Raises ``invalid_state`` if it was already sent."""
    _require_treasurer(actor)
    with transaction.atomic():
        batch = SepaBatch.objects.select_for_update().get(pk=batch_id)
        batch.state = SEPA_BATCH.target(batch.state, "send")
        batch.sent_at = timezone.now()
        batch.sent_by = actor
        batch.save(update_fields=["state", "sent_at", "sent_by"])
        payouts = list(batch.payouts.select_for_update().order_by("id"))
        for payout in payouts:
            payout.state = PAYOUT.target(payout.state, "submit")
            payout.submitted_at = batch.sent_at
        Payout.objects.bulk_update(payouts, ["state", "submitted_at"])
        notices.payouts_sent(payouts)
        audit_record(actor=actor, action="sepa_batch.sent", target=batch, after={"message_id": batch.message_id})
    return batch


def _sepa_payment(*, payout_id: int) -> tuple[SepaBatch, Payout]:
    batch_id = Payout.objects.filter(pk=payout_id, rail=Rail.SEPA).values_list("batch_id", flat=True).first()
    if batch_id is None:
        raise AppError("not_in_a_batch", _("This is not a SEPA payment of a bank file."), status=409)
    batch = SepaBatch.objects.select_for_update().get(pk=batch_id)
    if batch.state == SepaBatch.State.OPEN:
        raise AppError(
            "batch_not_sent", _("Mark the batch sent first: the bank has not received this payment yet."), status=409
        )
    return batch, _lock_payout(payout_id)


def _batch_close_if_done(batch: SepaBatch) -> None:
    if batch.state == SepaBatch.State.SENT and not batch.payouts.filter(state=Payout.State.SUBMITTED).exists():
        batch.state = SEPA_BATCH.target(batch.state, "close")
        batch.closed_at = timezone.now()
        batch.save(update_fields=["state", "closed_at"])
        audit_record(actor=None, action="sepa_batch.closed", target=batch, after={"message_id": batch.message_id})


def sepa_payment_mark_paid(*, payout_id: int, actor: User) -> Payout:
    """The bank confirmed this payment: the payout is paid and its reservation posted.
    Idempotent. The batch closes when its last payment is settled."""
    _require_treasurer(actor)
    with transaction.atomic():
        batch, _created = _sepa_payment(payout_id=payout_id)
        payout = payout_pay(payout_id=payout_id, actor=actor)
        _batch_close_if_done(batch)
    return payout


def sepa_payment_mark_failed(*, payout_id: int, actor: User, reason: str) -> Payout:
    """The bank returned this payment (``reason`` is shown to the worker): the money
    is back in the worker's balance. Idempotent."""
    _require_treasurer(actor)
    reason = reason.strip()
    if not reason:
        raise AppError(
            "reason_required",
            _("Say why the bank returned the payment (e.g. 'account closed'); the worker sees it."),
            fields={"reason": [_("Required.")]},
        )
    with transaction.atomic():
        batch, _created = _sepa_payment(payout_id=payout_id)
        payout = payout_fail(
            payout_id=payout_id,
            code="bank_returned",
            reason="sepa_bank_returned",
            detail=reason,
            actor=actor,
        )
        _batch_close_if_done(batch)
    return payout
