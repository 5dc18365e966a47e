"""Writing audit rows. Call inside the service's transaction so the row and the
change commit or roll back together."""

from contextvars import ContextVar
from typing import Any

from django.db import models, transaction

from core.models import AuditEvent, OutboxEvent
from core.outbox import OUTBOX_ACTIONS

# Whether a change (an audit row) has committed during the current request, so an error
# after it is never answered "nothing was changed" (see ``core.api.exception_handler``).
# ``core.middleware.CommittedChangesMiddleware`` resets it for each request.
_change_committed: ContextVar[bool] = ContextVar("change_committed", default=False)


def _mark_change_committed() -> None:
    _change_committed.set(True)


def change_committed() -> bool:
    """True once a service's change has committed in this request."""
    return _change_committed.get()


def change_committed_reset() -> None:
    _change_committed.set(False)


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    transaction.on_commit(_mark_change_committed)
    target_type = target._meta.label_lower
    if action in OUTBOX_ACTIONS:
        # The event for subscribers, in the same transaction as the change (core.outbox).
        OutboxEvent.objects.create(action=action, target_type=target_type, target_id=str(target.pk), after=after or {})
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_kind="user" if is_user else "system",
        action=action,
        target_type=target_type,
        target_id=str(target.pk),
        before=before or {},
        after=after or {},
    )
