"""The platform's one door to Stripe: the only module that imports ``stripe``.

Everything else speaks the project's terms: amounts are integer minor units with
an upper-case ISO currency, Stripe objects come back as small frozen dataclasses,
and failures are ``AppError`` subclasses:

- ``StripeUnavailable`` (503): the request may or may not have reached Stripe
  (connection lost, timeout, Stripe 5xx, rate limit). Retry with the *same*
  idempotency key; Stripe then replays the first outcome instead of acting twice.
- ``StripeRefused`` (502): Stripe answered and said no (invalid request, card
  error). Retrying the same request will not help.
- ``StripeIdempotencyConflict`` (409): the key was used before with other
  parameters: a programming error in how the caller derives its keys.

Every write takes a caller-chosen, deterministic ``idempotency_key`` (for example
``"deposit:42:payment_intent"``) so that a job that crashes after Stripe acted and
runs again cannot pay or refund twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext as _
from stripe.params import BalanceTransactionListParams, PaymentIntentCreateParams, RefundCreateParams

from core.errors import AppError

_T = TypeVar("_T")

# Set by tests (an in-process fake) and by local runs against stripe-mock.
_http_client: stripe.HTTPClient | None = None


def use_http_client(http_client: stripe.HTTPClient | None) -> None:
    """Send every Stripe request through ``http_client`` (``None``: the default, real HTTP)."""
    global _http_client
    _http_client = http_client


class StripeUnavailable(AppError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "stripe_unavailable",
            "The payment provider could not be reached; nothing was lost. Try again in a few minutes.",
            status=503,
            details={"provider_message": detail},
        )


class StripeRefused(AppError):
    def __init__(self, message: str, *, stripe_code: str | None = None) -> None:
        super().__init__(
            "stripe_refused",
            f"The payment provider refused the request: {message}",
            status=502,
            details={"stripe_code": stripe_code or ""},
        )
        self.stripe_code = stripe_code or ""


class StripeIdempotencyConflict(AppError):
    def __init__(self, key: str) -> None:
        super().__init__(
            "stripe_idempotency_conflict",
            f"The idempotency key '{key}' was already used for a different request.",
            status=409,
        )


class WebhookSignatureInvalid(AppError):
    def __init__(self) -> None:
        super().__init__(
            "webhook_signature_invalid",
            "The Stripe-Signature header does not match the payload (or is missing or too old).",
            status=400,
        )


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise AppError(
            "stripe_not_configured",
            _("Card payments are not set up on this platform; pay by bank transfer instead."),
            status=503,
        )
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        http_client=_http_client,
        # Our jobs retry with the same idempotency keys; the library's own retries
        # would only hide slowness from the caller's timeout.
        max_network_retries=0,
    )


def _call(action: Callable[[], _T], *, idempotency_key: str = "") -> _T:
    try:
        return action()
    except stripe.APIConnectionError as error:
        raise StripeUnavailable(str(error.user_message or error)) from error
    except stripe.IdempotencyError as error:
        raise StripeIdempotencyConflict(idempotency_key) from error
    except stripe.RateLimitError as error:
        raise StripeUnavailable(str(error.user_message or error)) from error
    except (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError) as error:
        raise StripeRefused(str(error.user_message or error), stripe_code=error.code) from error
    except stripe.StripeError as error:
        if error.http_status is None or error.http_status >= 500:
            raise StripeUnavailable(str(error.user_message or error)) from error
        raise StripeRefused(str(error.user_message or error), stripe_code=error.code) from error


def _currency(code: str) -> str:
    return code.upper()


def _plain(obj: Any) -> dict[str, Any]:
    return json.loads(json.dumps(obj.to_dict_recursive() if hasattr(obj, "to_dict_recursive") else obj.to_dict()))


# -- payment intents --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str
    latest_charge: str
    metadata: dict[str, str]

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> PaymentIntent:
        charge = data.get("latest_charge") or ""
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            amount=int(data["amount"]),
            amount_received=int(data.get("amount_received") or 0),
            currency=_currency(str(data["currency"])),
            client_secret=str(data.get("client_secret") or ""),
            latest_charge=charge if isinstance(charge, str) else str(charge.get("id", "")),
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )


def payment_intent_create(
    *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str], description: str = ""
) -> PaymentIntent:
    """Creates a PaymentIntent for the requester to confirm in the browser. Idempotent per key."""
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": metadata,
        "automatic_payment_methods": {"enabled": True},
    }
    if description:
        params["description"] = description
    client = _client()
    intent = _call(
        lambda: client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key}),
        idempotency_key=idempotency_key,
    )
    return PaymentIntent.from_stripe(_plain(intent))


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    client = _client()
    intent = _call(lambda: client.v1.payment_intents.retrieve(payment_intent_id))
    return PaymentIntent.from_stripe(_plain(intent))


def charge_fee(*, charge_id: str) -> int | None:
    """Stripe's processing fee of a charge (minor units), from the charge's balance
    transaction; None while Stripe has not created that transaction yet."""
    client = _client()
    charge = _plain(_call(lambda: client.v1.charges.retrieve(charge_id)))
    transaction_id = charge.get("balance_transaction") or ""
    if isinstance(transaction_id, dict):
        return int(transaction_id.get("fee") or 0)
    if not transaction_id:
        return None
    row = _plain(_call(lambda: client.v1.balance_transactions.retrieve(str(transaction_id))))
    return int(row.get("fee") or 0)


# -- refunds ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    amount: int
    currency: str
    payment_intent: str


def refund_create(*, payment_intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]) -> Refund:
    """Refunds ``amount`` of a succeeded PaymentIntent. Idempotent per key."""
    params: RefundCreateParams = {
        "payment_intent": payment_intent_id,
        "amount": amount,
        "metadata": metadata,
        "reason": "requested_by_customer",
    }
    client = _client()
    refund = _plain(
        _call(
            lambda: client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}),
            idempotency_key=idempotency_key,
        )
    )
    return Refund(
        id=str(refund["id"]),
        status=str(refund["status"]),
        amount=int(refund["amount"]),
        currency=_currency(str(refund["currency"])),
        payment_intent=str(refund.get("payment_intent") or payment_intent_id),
    )


# -- balance transactions (reconciliation) ----------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceTransaction:
    id: str
    type: str  # charge | payment | refund | transfer | payout | stripe_fee | adjustment | ...
    amount: int  # signed, minor units: positive money in, negative money out
    fee: int
    net: int
    currency: str
    source: str  # the object that moved the money: ch_..., re_..., tr_..., po_...
    created: datetime


def balance_transactions_between(*, start: datetime, end: datetime) -> Iterator[BalanceTransaction]:
    """Every balance transaction created in ``[start, end)``, all pages."""
    params: BalanceTransactionListParams = {
        "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
        "limit": 100,
    }
    client = _client()
    page = _call(lambda: client.v1.balance_transactions.list(params=params))
    iterator = page.auto_paging_iter()
    while True:
        row = _call(lambda: next(iterator, None))
        if row is None:
            return
        data = _plain(row)
        source = data.get("source") or ""
        yield BalanceTransaction(
            id=str(data["id"]),
            type=str(data["type"]),
            amount=int(data["amount"]),
            fee=int(data.get("fee") or 0),
            net=int(data.get("net") or 0),
            currency=_currency(str(data["currency"])),
            source=source if isinstance(source, str) else str(source.get("id", "")),
            created=datetime.fromtimestamp(int(data["created"]), tz=UTC),
        )


# -- webhooks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StripeEvent:
    id: str
    type: str
    created: int
    account: str  # the connected account for Connect events, else ""
    payload: dict[str, Any]  # the whole event as Stripe sent it
    # Which endpoint's secret signed it: "platform" (STRIPE_WEBHOOK_SECRET) or "connect"
    # (STRIPE_CONNECT_WEBHOOK_SECRET); payments.webhooks decides what each may deliver.
    endpoint: str = "platform"

    @property
    def object(self) -> dict[str, Any]:
        return dict(self.payload.get("data", {}).get("object", {}))


def webhook_event_verify(*, payload: bytes, signature_header: str) -> StripeEvent:
    """Checks the ``Stripe-Signature`` header against the endpoint secrets and parses the event.

    Stripe signs platform events and Connect events (from workers' connected accounts)
    with the secrets of two separate endpoints; both deliver here, and the event says
    which secret verified it (``endpoint``). Raises
    ``WebhookSignatureInvalid`` for a missing, wrong or stale signature and for a body
    that is not a Stripe event; nothing about the payload is trusted before this.
    """
    secrets = [
        (endpoint, secret)
        for endpoint, secret in (
            ("platform", settings.STRIPE_WEBHOOK_SECRET),
            ("connect", settings.STRIPE_CONNECT_WEBHOOK_SECRET),
        )
        if secret
    ]
    if not secrets or not signature_header:
        raise WebhookSignatureInvalid()
    for endpoint, secret in secrets:
        try:
            stripe.Webhook.construct_event(payload, signature_header, secret)
            data = json.loads(payload)
            verified_by = endpoint
            break
        except stripe.SignatureVerificationError:
            continue
        except ValueError:
            raise WebhookSignatureInvalid() from None
    else:
        raise WebhookSignatureInvalid()
    if not isinstance(data, dict) or not data.get("id") or not data.get("type"):
        raise WebhookSignatureInvalid()
    return StripeEvent(
        id=str(data["id"]),
        type=str(data["type"]),
        created=int(data.get("created") or 0),
        account=str(data.get("account") or ""),
        payload=data,
        endpoint=verified_by,
    )


# -- Connect: worker payouts (used by the payouts app) ------------------------------
# Appended for payouts (issue 5): connected accounts, their onboarding links,
# transfers to them, transfer reversals, and payouts from a connected account's
# balance to the worker's bank.


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    id: str
    country: str
    payouts_enabled: bool
    details_submitted: bool
    disabled_reason: str

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> ConnectedAccount:
        requirements = data.get("requirements") or {}
        return cls(
            id=str(data["id"]),
            country=str(data.get("country") or "").upper(),
            payouts_enabled=bool(data.get("payouts_enabled")),
            details_submitted=bool(data.get("details_submitted")),
            disabled_reason=str(requirements.get("disabled_reason") or ""),
        )


def connected_account_create(
    *, country: str, email: str, idempotency_key: str, metadata: dict[str, str]
) -> ConnectedAccount:
    """Creates an Express connected account whose payouts the platform starts
    itself (manual schedule), so each bank payout maps to one platform payout."""
    params: dict[str, Any] = {
        "type": "express",
        "country": country.upper(),
        "email": email,
        "capabilities": {"transfers": {"requested": True}},
        "settings": {"payouts": {"schedule": {"interval": "manual"}}},
        "metadata": metadata,
    }
    client = _client()
    account = _call(
        lambda: client.v1.accounts.create(params=params, options={"idempotency_key": idempotency_key}),  # type: ignore[arg-type]
        idempotency_key=idempotency_key,
    )
    return ConnectedAccount.from_stripe(_plain(account))


def connected_account_retrieve(*, account_id: str) -> ConnectedAccount:
    client = _client()
    account = _call(lambda: client.v1.accounts.retrieve(account_id))
    return ConnectedAccount.from_stripe(_plain(account))


def account_onboarding_link_create(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A one-time URL of Stripe's hosted onboarding for the connected account.
    Links expire within minutes, so each call makes a new one (no idempotency key)."""
    params: dict[str, Any] = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    client = _client()
    link = _call(lambda: client.v1.account_links.create(params=params))  # type: ignore[arg-type]
    return str(_plain(link)["url"])


@dataclass(frozen=True, slots=True)
class ConnectTransfer:
    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str
    transfer_group: str
    reversed: bool


def _connect_transfer(data: dict[str, Any]) -> ConnectTransfer:
    return ConnectTransfer(
        id=str(data["id"]),
        amount=int(data["amount"]),
        amount_reversed=int(data.get("amount_reversed") or 0),
        currency=_currency(str(data["currency"])),
        destination=str(data.get("destination") or ""),
        transfer_group=str(data.get("transfer_group") or ""),
        reversed=bool(data.get("reversed")),
    )


def transfer_create(
    *,
    amount: int,
    currency: str,
    destination: str,
    transfer_group: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> ConnectTransfer:
    """Moves ``amount`` from the platform balance to a connected account. Idempotent per key."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "destination": destination,
        "transfer_group": transfer_group,
        "metadata": metadata,
    }
    client = _client()
    created = _call(
        lambda: client.v1.transfers.create(params=params, options={"idempotency_key": idempotency_key}),  # type: ignore[arg-type]
        idempotency_key=idempotency_key,
    )
    return _connect_transfer(_plain(created))


def transfer_reverse(*, transfer_id: str, idempotency_key: str, metadata: dict[str, str]) -> str:
    """Returns the whole transfer from the connected account to the platform
    balance; the reversal's id. Idempotent per key."""
    params: dict[str, Any] = {"metadata": metadata}
    client = _client()
    reversal = _call(
        lambda: client.v1.transfers.reversals.create(
            transfer_id,
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        ),
        idempotency_key=idempotency_key,
    )
    return str(_plain(reversal)["id"])


@dataclass(frozen=True, slots=True)
class ConnectPayout:
    id: str
    status: str  # pending | in_transit | paid | failed | canceled
    amount: int
    currency: str
    failure_code: str
    failure_message: str
    metadata: dict[str, str]

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> ConnectPayout:
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            amount=int(data.get("amount") or 0),
            currency=_currency(str(data.get("currency") or "")),
            failure_code=str(data.get("failure_code") or ""),
            failure_message=str(data.get("failure_message") or ""),
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )


def connected_payout_create(
    *, account_id: str, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str], description: str
) -> ConnectPayout:
    """Pays ``amount`` from the connected account's balance to its bank account. Idempotent per key."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": metadata,
        "description": description,
    }
    client = _client()
    created = _call(
        lambda: client.v1.payouts.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key, "stripe_account": account_id},
        ),
        idempotency_key=idempotency_key,
    )
    return ConnectPayout.from_stripe(_plain(created))


# -- end of the Connect block --------------------------------------------------------


# -- Global Payouts (Stripe API v2), used by payouts.rails.stripe_global ----------------
# Appended for issue 21. The worker is a v2 Account with the ``recipient``
# configuration; Stripe's hosted onboarding (a v2 AccountLink) collects their bank
# account or card, so we hold only ids. A payout is a PayoutIntent created with
# manual confirmation (its FX quote and estimated fees are the quote the worker
# sees) and confirmed when the payout is submitted; Stripe then makes the
# OutboundPayment whose thin events (``v2.money_management.outbound_payment.*``)
# report the outcome.


def _plain_v2(obj: Any) -> dict[str, Any]:
    """A v2 object as plain JSON data; v2 classes nest objects inside plain dicts
    (e.g. ``fx_quote.rates``), which ``to_dict`` leaves as objects."""

    def nested(value: Any) -> Any:
        if isinstance(value, stripe.StripeObject):
            return value.to_dict()
        raise TypeError(_("%(__name__)s is not JSON data") % {"__name__": type(value).__name__})

    return dict(json.loads(json.dumps(obj.to_dict(), default=nested)))


def _v2_amount(data: Any) -> tuple[int, str]:
    data = data or {}
    return int(data.get("value") or 0), _currency(str(data.get("currency") or ""))


def _v2_time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class RecipientAccount:
    id: str
    country: str
    # "active" | "pending" | "restricted" | "rejected" | "unsupported" | "" (not requested)
    bank_status: str
    card_status: str

    @property
    def ready(self) -> bool:
        return "active" in (self.bank_status, self.card_status)

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> RecipientAccount:
        recipient = ((data.get("configuration") or {}).get("recipient") or {}).get("capabilities") or {}
        bank = (recipient.get("bank_accounts") or {}).get("local") or {}
        card = recipient.get("cards") or {}
        identity = data.get("identity") or {}
        return cls(
            id=str(data["id"]),
            country=str(identity.get("country") or "").upper(),
            bank_status=str(bank.get("status") or ""),
            card_status=str(card.get("status") or ""),
        )


def recipient_account_create(
    *, country: str, email: str, display_name: str, idempotency_key: str, metadata: dict[str, str]
) -> RecipientAccount:
    """Creates the worker's v2 Account with the recipient configuration, asking for
    local bank account payouts (and card payouts where Stripe offers them). Idempotent per key."""
    params: dict[str, Any] = {
        "contact_email": email,
        "display_name": display_name,
        "identity": {"country": country.lower(), "entity_type": "individual"},
        "configuration": {
            "recipient": {
                "capabilities": {
                    "bank_accounts": {"local": {"requested": True}},
                    "cards": {"requested": True},
                }
            }
        },
        "include": ["configuration.recipient", "identity"],
        "metadata": metadata,
    }
    client = _client()
    account = _call(
        lambda: client.v2.core.accounts.create(params=params, options={"idempotency_key": idempotency_key}),  # type: ignore[arg-type]
        idempotency_key=idempotency_key,
    )
    return RecipientAccount.from_stripe(_plain_v2(account))


def recipient_account_retrieve(*, account_id: str) -> RecipientAccount:
    client = _client()
    account = _call(
        lambda: client.v2.core.accounts.retrieve(
            account_id,
            params={"include": ["configuration.recipient", "identity"]},  # type: ignore[list-item]
        )
    )
    return RecipientAccount.from_stripe(_plain_v2(account))


def recipient_onboarding_link_create(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A one-time URL of Stripe's hosted form where the worker enters their payout
    bank account or card. Each call makes a new link (they expire)."""
    params: dict[str, Any] = {
        "account": account_id,
        "use_case": {
            "type": "account_onboarding",
            "account_onboarding": {
                "configurations": ["recipient"],
                "refresh_url": refresh_url,
                "return_url": return_url,
            },
        },
    }
    client = _client()
    link = _call(lambda: client.v2.core.account_links.create(params=params))  # type: ignore[arg-type]
    return str(_plain_v2(link)["url"])


@dataclass(frozen=True, slots=True)
class GlobalPayoutQuote:
    """A PayoutIntent awaiting confirmation: its estimated fees and FX quote."""

    payout_intent_id: str
    fee: int  # in the amount's currency, minor units
    rate: str  # destination units per unit of the amount's currency
    destination_amount: int
    destination_currency: str
    expires_at: datetime | None


def payout_intent_quote(
    *,
    recipient: str,
    amount: int,
    currency: str,
    to_currency: str,
    financial_account: str,
    source_currency: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> GlobalPayoutQuote:
    """Creates a PayoutIntent (manual confirmation) for ``amount`` to the recipient's
    default payout method in ``to_currency`` and returns Stripe's quote. Fees must
    come back in the amount's currency (the ledger's); any other answer is refused."""
    params: dict[str, Any] = {
        "amount": {"value": amount, "currency": currency.lower()},
        "from": {"financial_account": financial_account, "currency": source_currency.lower()},
        "to": {"recipient": recipient, "currency": to_currency.lower()},
        "confirmation_method": "manual",
        "metadata": metadata,
    }
    client = _client()
    intent = _plain_v2(
        _call(
            lambda: client.v2.money_management.payout_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            idempotency_key=idempotency_key,
        )
    )
    fee = 0
    for estimated in intent.get("estimated_fees") or []:
        value, fee_currency = _v2_amount(estimated.get("amount"))
        if fee_currency != currency.upper():
            raise StripeRefused(f"Stripe quoted a fee in {fee_currency}, not {currency.upper()}.")
        fee += value
    fx = intent.get("fx_quote") or {}
    rates = fx.get("rates") or {}
    rate_entry = rates.get(currency.lower()) or rates.get(source_currency.lower()) or {}
    credited, credited_currency = _v2_amount((intent.get("to") or {}).get("credited"))
    return GlobalPayoutQuote(
        payout_intent_id=str(intent["id"]),
        fee=fee,
        rate=str(rate_entry.get("exchange_rate") or "1"),
        destination_amount=credited,
        destination_currency=credited_currency or to_currency.upper(),
        expires_at=_v2_time(fx.get("lock_expires_at")),
    )


class QuoteExpired(AppError):
    def __init__(self) -> None:
        super().__init__(
            "quote_expired",
            "The exchange-rate quote expired before the payout was sent; ask for a new estimate.",
            status=409,
        )


@dataclass(frozen=True, slots=True)
class GlobalPayoutSent:
    payout_intent_id: str
    status: str
    outbound_payment_id: str


def payout_intent_confirm(*, payout_intent_id: str, idempotency_key: str) -> GlobalPayoutSent:
    """Confirms the PayoutIntent: Stripe sends the money. Idempotent per key (a lost
    answer replays the first one). Raises ``QuoteExpired`` when the rate lock ran out."""
    client = _client()
    try:
        intent = _plain_v2(
            _call(
                lambda: client.v2.money_management.payout_intents.confirm(
                    payout_intent_id, options={"idempotency_key": idempotency_key}
                ),
                idempotency_key=idempotency_key,
            )
        )
    except StripeRefused as refused:
        if refused.stripe_code == "fx_quote_needs_refresh":
            raise QuoteExpired() from refused
        raise
    latest = intent.get("latest_payout") or {}
    return GlobalPayoutSent(
        payout_intent_id=str(intent["id"]),
        status=str(intent.get("status") or ""),
        outbound_payment_id=str(latest.get("outbound_payment") or ""),
    )


@dataclass(frozen=True, slots=True)
class OutboundPayment:
    id: str
    # processing | posted | failed | canceled | returned
    status: str
    payout_intent_id: str
    recipient: str
    credited_amount: int
    credited_currency: str
    reason: str
    metadata: dict[str, str]

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> OutboundPayment:
        details = data.get("status_details") or {}
        status = str(data.get("status") or "")
        reason = str((details.get(status) or {}).get("reason") or "") if isinstance(details, dict) else ""
        credited, credited_currency = _v2_amount((data.get("to") or {}).get("credited"))
        return cls(
            id=str(data["id"]),
            status=status,
            payout_intent_id=str(data.get("payout_intent") or ""),
            recipient=str((data.get("to") or {}).get("recipient") or ""),
            credited_amount=credited,
            credited_currency=credited_currency,
            reason=reason,
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )


def outbound_payment_retrieve(*, outbound_payment_id: str) -> OutboundPayment:
    client = _client()
    found = _call(lambda: client.v2.money_management.outbound_payments.retrieve(outbound_payment_id))
    return OutboundPayment.from_stripe(_plain_v2(found))


@dataclass(frozen=True, slots=True)
class EventNotification:
    """A verified v2 thin event: only ids; the current object is fetched from Stripe."""

    id: str
    type: str
    created: str
    related_object_id: str
    related_object_type: str
    payload: dict[str, Any]


def event_notification_verify(*, payload: bytes, signature_header: str) -> EventNotification:
    """Verifies a v2 thin event against ``STRIPE_EVENT_DESTINATION_SECRET`` with the
    library's own ``parse_event_notification``. Raises ``WebhookSignatureInvalid``."""
    secret = settings.STRIPE_EVENT_DESTINATION_SECRET
    if not secret or not signature_header:
        raise WebhookSignatureInvalid()
    client = stripe.StripeClient(settings.STRIPE_SECRET_KEY or "sk_unset", http_client=_http_client)
    try:
        notification = client.parse_event_notification(payload, signature_header, secret)
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, KeyError):
        raise WebhookSignatureInvalid() from None
    related = data.get("related_object") or {}
    return EventNotification(
        id=str(notification.id),
        type=str(notification.type),
        created=str(notification.created),
        related_object_id=str(related.get("id") or ""),
        related_object_type=str(related.get("type") or ""),
        payload=data,
    )


# -- end of the Global Payouts block ---------------------------------------------------
