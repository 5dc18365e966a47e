"""Why a payout failed, in the worker's language.

A failed payout stores which of these sentences says why (``Payout.failure_reason``)
and the rail's or bank's own words (``failure_detail``, slotted in as they came: the
provider writes them in English), and the sentence is written when it is shown, in
the reader's language. ``failure_message`` keeps the English sentence for the audit
trail and for rows written before, which have no reason and are shown as they were.
"""

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SENTENCES: dict[str, "StrPromise"] = {
    "cancelled_by_worker": _(
        "Cancelled by you while the new destination was on hold; the money is back in your balance."
    ),
    "stripe_transfer_refused": _("Stripe did not accept the transfer to your account: %(detail)s"),
    "stripe_bank_payout_refused": _("Stripe could not pay out to your bank: %(detail)s"),
    "stripe_bank_refused": _(
        "Your bank did not accept the payout (%(detail)s). Check your bank details in Stripe; "
        "the money is back in your balance."
    ),
    "stripe_transfer_reversed": _(
        "The transfer to your Stripe account was reversed; the money is back in your balance."
    ),
    "stripe_no_quote": _("This payout has no Stripe quote to confirm."),
    "quote_expired": _("The exchange-rate quote expired before the payout was sent; ask for a new estimate."),
    "stripe_refused": _("Stripe did not accept the payout: %(detail)s"),
    "stripe_failed": _(
        "Stripe could not pay you (%(detail)s); the money is back in your balance. "
        "Check your bank details in Stripe's form."
    ),
    "stripe_returned": _(
        "Your bank returned the payout (%(detail)s). Check your details in Stripe's form; the money is back."
    ),
    "paypal_refused": _("PayPal did not accept the payout: %(detail)s"),
    "paypal_failed": _(
        "PayPal did not pay you (%(detail)s); the money is back in your balance. "
        "Check the email address of your PayPal account."
    ),
    "paypal_returned": _(
        "PayPal returned the payout (no PayPal account took it in time, or it was refused); "
        "the money is back in your balance."
    ),
    "wise_no_quote": _("This payout has no Wise quote."),
    "wise_refused": _("Wise did not accept the payout: %(detail)s"),
    "wise_cancelled": _("Wise cancelled the transfer; the money is back in your balance. Check your bank details."),
    "wise_returned": _(
        "Your bank returned the Wise transfer; the money is back in your balance. Check your bank details."
    ),
    "sepa_bank_returned": _(
        "The bank returned the transfer: %(detail)s. Check your IBAN and name; the money is back in your balance."
    ),
}


def failure_sentence(reason: str, detail: str = "") -> str:
    """The sentence for ``reason`` in the active language ("" for a reason we do not know)."""
    sentence = SENTENCES.get(reason)
    if sentence is None:
        return ""
    text = str(sentence)
    return text % {"detail": detail} if "%(detail)s" in text else text


def failure_english(reason: str, detail: str = "") -> str:
    """The sentence as stored in ``failure_message`` and the audit trail."""
    with translation.override("en"):
        return failure_sentence(reason, detail)
