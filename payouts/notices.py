"""What a worker hears about their payouts (sent, paid, failed): only the payout's owner."""

from collections.abc import Iterable

from django.urls import reverse
from django.utils import translation

from core.money import format_amount
from notifications.services import notify
from payouts.failures import SENTENCES
from payouts.models import Payout


def _params(payout: Payout) -> dict[str, str]:
    return {"amount": format_amount(payout.amount, payout.currency), "destination": payout.display}


def payouts_sent(payouts: Iterable[Payout]) -> None:
    for payout in payouts:
        notify(users=[payout.user_id], category="payout_sent", params=_params(payout), url=reverse("worker_payouts"))


def payout_paid(payout: Payout) -> None:
    notify(users=[payout.user_id], category="payout_paid", params=_params(payout), url=reverse("worker_payouts"))


def payout_failed(payout: Payout) -> None:
    """Why it failed and that the money is back (what ``payout_failure_notify`` e-mailed),
    the reason in the reader's language (the sentence's msgid and the rail's words)."""
    params = {**_params(payout), "reason": payout.failure_message}
    sentence = SENTENCES.get(payout.failure_reason)
    if sentence is not None:
        with translation.override("en"):
            params["reason_sentence"] = str(sentence)  # the msgid itself
        params["reason_detail"] = payout.failure_detail
    notify(users=[payout.user_id], category="payout_failed", params=params, url=reverse("worker_payouts"))
