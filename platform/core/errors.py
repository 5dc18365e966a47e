"""The one application error type.

Services raise ``AppError`` with a stable ``code`` and a message a person can act
on; the API maps it to HTTP once (``core.api.exception_handler``) and the web UI
shows the message next to the form. Raising it inside ``transaction.atomic``
rolls everything back, so nothing half-done stays behind.
"""

from typing import Any


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
        super().__init__("not_found", f"No such {what}.", status=404)


class PermissionDenied(AppError):
    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__("permission_denied", message, status=403)


class InvalidTransition(AppError):
    def __init__(self, what: str, current: str, action: str) -> None:
        super().__init__(
            "invalid_state",
            f"This {what} is {current}; it cannot be {action}.",
            status=409,
            details={"state": current, "action": action},
        )
