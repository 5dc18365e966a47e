"""The one application error type.

Services raise ``AppError`` with a stable ``code`` and a message a person can act
on; the API maps it to HTTP once (``core.api.exception_handler``) and the web UI
shows the message next to the form. Raising it inside ``transaction.atomic``
rolls everything back, so nothing half-done stays behind.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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
        super().__init__("not_found", _("No such %(what)s.") % {"what": _(what)}, status=404)


class PermissionDenied(AppError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__("permission_denied", message or _("You are not allowed to do that."), status=403)


class InvalidTransition(AppError):
    """The state is named in words (``waiting for the requester's answer``), never as stored;
    ``details`` keeps the stored names for programs."""

    def __init__(self, what: str, current: str, action: str) -> None:
        state = label(current)
        super().__init__(
            "invalid_state",
            _("This %(what)s is %(state)s; it cannot be %(action)s.")
            % {"what": _(what), "state": state[:1].lower() + state[1:], "action": _(action.replace("_", " "))},
            status=409,
            details={"state": current, "action": action},
        )


# The things a refusal may name, so that "No such case." reads in the person's language.
NAMED_THINGS = (
    gettext_noop("object"),
    gettext_noop("case"),
    gettext_noop("action"),
    gettext_noop("organisation"),
    gettext_noop("assignment"),
    gettext_noop("member"),
    gettext_noop("batch"),
    gettext_noop("qualification"),
    gettext_noop("document"),
    gettext_noop("submission"),
    gettext_noop("notification"),
    gettext_noop("invitation"),
    gettext_noop("deposit"),
    gettext_noop("worker"),
    gettext_noop("withdrawal"),
    gettext_noop("webhook"),
    gettext_noop("verification request"),
    gettext_noop("template"),
    gettext_noop("saved search"),
    gettext_noop("rule"),
    gettext_noop("reconciliation difference"),
    gettext_noop("proposal"),
    gettext_noop("person"),
    gettext_noop("payout"),
    gettext_noop("payout batch"),
    gettext_noop("payment in this batch"),
    gettext_noop("page"),
    gettext_noop("operation"),
    gettext_noop("key"),
    gettext_noop("file"),
    gettext_noop("dividend"),
    gettext_noop("decision"),
    gettext_noop("conversation"),
    gettext_noop("block"),
    gettext_noop("API key"),
    gettext_noop("SEPA batch"),
)


# The moves a refusal may name (the transition tables' actions, written as words).
NAMED_ACTIONS = (
    gettext_noop("accept"),
    gettext_noop("accept offer"),
    gettext_noop("accepted"),
    gettext_noop("add evidence"),
    gettext_noop("adopt"),
    gettext_noop("appeal"),
    gettext_noop("approved"),
    gettext_noop("cancelled"),
    gettext_noop("close"),
    gettext_noop("close evidence"),
    gettext_noop("closed"),
    gettext_noop("complete"),
    gettext_noop("completed"),
    gettext_noop("confirm"),
    gettext_noop("contest"),
    gettext_noop("decide"),
    gettext_noop("decide final"),
    gettext_noop("decline offer"),
    gettext_noop("deleted"),
    gettext_noop("disputed"),
    gettext_noop("edited"),
    gettext_noop("empty"),
    gettext_noop("expired"),
    gettext_noop("extended"),
    gettext_noop("fail"),
    gettext_noop("fail quorum"),
    gettext_noop("finalise"),
    gettext_noop("finalised"),
    gettext_noop("lapse offer"),
    gettext_noop("lapse response"),
    gettext_noop("offer"),
    gettext_noop("open discussion"),
    gettext_noop("open voting"),
    gettext_noop("paused"),
    gettext_noop("pay"),
    gettext_noop("published"),
    gettext_noop("reject"),
    gettext_noop("rejected"),
    gettext_noop("replace jurors"),
    gettext_noop("resumed"),
    gettext_noop("return"),
    gettext_noop("returned"),
    gettext_noop("schedule"),
    gettext_noop("send"),
    gettext_noop("settled"),
    gettext_noop("submit"),
    gettext_noop("submitted"),
    gettext_noop("succeed"),
    gettext_noop("take effect"),
    gettext_noop("vote"),
    gettext_noop("withdraw"),
    gettext_noop("withdrawn"),
)
