"""The published lists of reasons staff may give. A refusal or a suspension names one of
these codes plus its own words; the lists are shown on the public staff page
(``/coop/staff/``) and at ``/api/staff/reasons/``, so anyone can see what staff may decide on,
in their own language. The sentence stored with a decision is written in English, as the audit
log is; the code stored beside it lets pages write the published reason in the reader's language."""

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

VERIFICATION_REFUSAL_REASONS: "dict[str, StrPromise]" = {
    "identity_not_established": _("The legal identity could not be established from what was sent."),
    "documents_inconsistent": _("The documents contradict the details given."),
    "registration_not_found": _("The registration or tax number was not found in the public register."),
    "sanctioned_or_prohibited": _("The organisation may not use the platform (sanctions or prohibited purpose)."),
    "responsible_person_unconfirmed": _("The responsible person could not be confirmed."),
}

SUSPENSION_REASONS: "dict[str, StrPromise]" = {
    "fraudulent_work": _("Submitting work that was not done (bots, copied or random answers) repeatedly."),
    "account_sharing": _("Sharing or selling the account, or holding several accounts."),
    "harassment": _("Harassing workers, requesters, jurors or staff."),
    "payment_fraud": _("Fraud against the co-op's money (charge-backs, stolen means of payment)."),
    "legal_order": _("An order of a court or authority the co-op must follow."),
}


# A refusal as the requester's notice writes it: the published reason, the verifier's own words
# (``%(detail)s``, as typed) and what to do next; one msgid per reason, written in each reader's
# language when the notice is read (``notifications.render.SENTENCE_PARAMS``).
REFUSAL_NOTICE_SENTENCES: dict[str, str] = {
    "identity_not_established": gettext_noop(
        "The legal identity could not be established from what was sent. %(detail)s\n"
        "You may submit a new request with corrected details."
    ),
    "documents_inconsistent": gettext_noop(
        "The documents contradict the details given. %(detail)s\nYou may submit a new request with corrected details."
    ),
    "registration_not_found": gettext_noop(
        "The registration or tax number was not found in the public register. %(detail)s\n"
        "You may submit a new request with corrected details."
    ),
    "sanctioned_or_prohibited": gettext_noop(
        "The organisation may not use the platform (sanctions or prohibited purpose). %(detail)s\n"
        "You may submit a new request with corrected details."
    ),
    "responsible_person_unconfirmed": gettext_noop(
        "The responsible person could not be confirmed. %(detail)s\n"
        "You may submit a new request with corrected details."
    ),
}


def reason_text(reasons: "dict[str, StrPromise]", code: str, text: str) -> str:
    """The sentence stored with the decision: the published reason (in English, as the audit
    log is), then the staff member's words."""
    with translation.override("en"):
        return f"{reasons[code]} {text}".strip()


def suspension_text(*, code: str, stored: str) -> str:
    """A stored suspension reason (``reason_text`` of ``SUSPENSION_REASONS``) in the active
    language: the published reason translated, the moderator's own words as typed."""
    published = SUSPENSION_REASONS.get(code)
    if published is None:
        return stored
    with translation.override("en"):
        english = str(published)
    if not stored.startswith(english):
        return stored
    return f"{published} {stored[len(english) :].strip()}".strip()
