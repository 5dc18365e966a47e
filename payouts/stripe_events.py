"""Stripe webhook handlers of the payouts app, found by ``payments.webhooks``
(``HANDLER_MODULES``). Each runs inside the transaction that marks the stored
event processed, is idempotent and tolerates any delivery order."""

from __future__ import annotations

from collections.abc import Callable

from payments.stripe_gateway import ConnectedAccount, ConnectPayout, StripeEvent
from payouts import services
from payouts.models import Payout
from payouts.provider_events import stripe_v2_event


def _payout_for_bank_payout(bank_payout: ConnectPayout, account: str) -> Payout | None:
    """Our payout behind a connected account's bank payout: by its Stripe id, or by
    the payout id in its metadata when the job that created it crashed before
    recording the id. The destination account must match, so an event about
    someone else's account can never settle a payout."""
    payout = Payout.objects.filter(stripe_payout_id=bank_payout.id).first()
    if payout is None and bank_payout.metadata.get("payout_id", "").isdigit():
        payout = Payout.objects.filter(pk=int(bank_payout.metadata["payout_id"])).first()
    if payout is None or payout.destination.get("account") != account:
        return None
    return payout


def _account_updated(event: StripeEvent) -> None:
    services.connected_account_update(account=ConnectedAccount.from_stripe(event.object), as_of=event.created)


def _payout_paid(event: StripeEvent) -> None:
    bank_payout = ConnectPayout.from_stripe(event.object)
    payout = _payout_for_bank_payout(bank_payout, event.account)
    if payout is not None:
        services.stripe_payout_paid(payout=payout, stripe_payout_id=bank_payout.id)


def _payout_failed(event: StripeEvent) -> None:
    bank_payout = ConnectPayout.from_stripe(event.object)
    payout = _payout_for_bank_payout(bank_payout, event.account)
    if payout is not None:
        services.stripe_payout_failed(
            payout=payout,
            stripe_payout_id=bank_payout.id,
            code=bank_payout.failure_code or event.type.split(".", 1)[1],
            message=bank_payout.failure_message,
        )


def _transfer_reversed(event: StripeEvent) -> None:
    transfer = event.object
    payout = Payout.objects.filter(stripe_transfer_id=str(transfer.get("id") or "")).first()
    metadata = transfer.get("metadata") or {}
    if payout is None and str(metadata.get("payout_id", "")).isdigit():
        payout = Payout.objects.filter(pk=int(metadata["payout_id"])).first()
    if payout is None or payout.destination.get("account") != transfer.get("destination"):
        return
    services.stripe_transfer_reversed(payout=payout)


def _ignored(event: StripeEvent) -> None:
    """Transfers created or updated need nothing: the payout job records them itself."""


STRIPE_EVENT_HANDLERS: dict[str, Callable[[StripeEvent], None]] = {
    "account.updated": _account_updated,
    "payout.paid": _payout_paid,
    "payout.failed": _payout_failed,
    "payout.canceled": _payout_failed,
    "transfer.reversed": _transfer_reversed,
    "transfer.*": _ignored,
    # Global Payouts: v2 thin events (OutboundPayments, recipient Accounts).
    "v2.*": stripe_v2_event,
}
