"""The one application error type.

Services raise ``AppError`` with a stable ``code`` and a message a person can act
on; the API maps it to HTTP once (``core.api.exception_handler``) and the web UI
shows the message next to the form. Raising it inside ``transaction.atomic``
rolls everything back, so nothing half-done stays behind.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.labels import label


class AppError(Exception):
    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status_code = status
        self.fields = fields or {}
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.details:
            body["details"] = self.details
        return body


class NotFound(AppError):
    """Raised for objects that do not exist *or* that the caller may not see."""

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", str(NOT_FOUND.get(what, NOT_FOUND["object"])), status=404)


class PermissionDenied(AppError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__("permission_denied", message or _("You are not allowed to do that."), status=403)


class InvalidTransition(AppError):
    """A move the state machine refuses, in one whole sentence per kind of thing, the state named
    in words (``Waiting for the requester's answer``), never as stored; ``details`` keeps the
    stored names of the state and the action for programs."""

    def __init__(self, what: str, current: str, action: str) -> None:
        sentence = REFUSED_MOVES.get(what, REFUSED_MOVES["object"])
        super().__init__(
            "invalid_state",
            str(sentence) % {"state": label(current)},
            status=409,
            details={"state": current, "action": action},
        )


# "No such ...": one whole sentence per thing, so each language can give it its own gender,
# article and word order (a noun slotted into "No such %s." reads wrong in most of them).
NOT_FOUND = {
    "object": gettext_lazy("No such object."),
    "action": gettext_lazy("No such action."),
    "API key": gettext_lazy("No such API key."),
    "assignment": gettext_lazy("No such assignment."),
    "batch": gettext_lazy("No such batch."),
    "block": gettext_lazy("No such block."),
    "case": gettext_lazy("No such case."),
    "conversation": gettext_lazy("No such conversation."),
    "decision": gettext_lazy("No such decision."),
    "deposit": gettext_lazy("No such deposit."),
    "dividend": gettext_lazy("No such dividend."),
    "document": gettext_lazy("No such document."),
    "export format": gettext_lazy("No such export format."),
    "file": gettext_lazy("No such file."),
    "file format": gettext_lazy("No such file format."),
    "HIT": gettext_lazy("No such HIT."),
    "HIT type": gettext_lazy("No such HIT type."),
    "invitation": gettext_lazy("No such invitation."),
    "key": gettext_lazy("No such key."),
    "member": gettext_lazy("No such member."),
    "notification": gettext_lazy("No such notification."),
    "operation": gettext_lazy("No such operation."),
    "organisation": gettext_lazy("No such organisation."),
    "page": gettext_lazy("No such page."),
    "passkey": gettext_lazy("No such passkey."),
    "payment in this batch": gettext_lazy("No such payment in this batch."),
    "payout": gettext_lazy("No such payout."),
    "payout batch": gettext_lazy("No such payout batch."),
    "person": gettext_lazy("No such person."),
    "proposal": gettext_lazy("No such proposal."),
    "qualification": gettext_lazy("No such qualification."),
    "qualification request": gettext_lazy("No such qualification request."),
    "qualification type": gettext_lazy("No such qualification type."),
    "receipt": gettext_lazy("No such receipt."),
    "reconciliation difference": gettext_lazy("No such reconciliation difference."),
    "rule": gettext_lazy("No such rule."),
    "saved search": gettext_lazy("No such saved search."),
    "SEPA batch": gettext_lazy("No such SEPA batch."),
    "submission": gettext_lazy("No such submission."),
    "submitted assignment": gettext_lazy("No such submitted assignment."),
    "template": gettext_lazy("No such template."),
    "verification request": gettext_lazy("No such verification request."),
    "webhook": gettext_lazy("No such webhook."),
    "withdrawal": gettext_lazy("No such withdrawal."),
    "worker": gettext_lazy("No such worker."),
}

# A refused move: one whole sentence per state machine, the state as a label after a colon
# (a label reads right there in every language; "This %(what)s is %(state)s; it cannot be
# %(action)s" built from three fragments did not).
REFUSED_MOVES = {
    "object": gettext_lazy("This cannot be done now. Current state: %(state)s."),
    "assignment": gettext_lazy("This cannot be done to this assignment now. Its state: %(state)s."),
    "batch": gettext_lazy("This cannot be done to this batch now. Its state: %(state)s."),
    "case": gettext_lazy("This cannot be done in this case now. Its stage: %(state)s."),
    "deposit": gettext_lazy("This cannot be done to this deposit now. Its state: %(state)s."),
    "payout": gettext_lazy("This cannot be done to this payout now. Its state: %(state)s."),
    "proposal": gettext_lazy("This cannot be done to this proposal now. Its stage: %(state)s."),
    "SEPA batch": gettext_lazy("This cannot be done to this SEPA batch now. Its state: %(state)s."),
    "verification request": gettext_lazy("This verification request has already been decided. Its state: %(state)s."),
    "withdrawal": gettext_lazy("This cannot be done to this withdrawal now. Its state: %(state)s."),
}


def language_problem(language: str) -> str | None:
    """What is wrong with a chosen language code (empty means "not chosen": the reader's
    own, from the browser or the calling program), or None if it is one the site speaks."""
    languages = sorted(code for code, _name in settings.LANGUAGES)
    if not language or language in languages:
        return None
    return _("Choose one of: %(sorted)s.") % {"sorted": ", ".join(languages)}
