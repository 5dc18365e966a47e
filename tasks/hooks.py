"""What the marketplace asks of the apps above it, answered by functions those apps
register at start-up (their ``AppConfig.ready``), so that ``tasks`` never imports them.

The disputes app registers all three (``disputes.apps.DisputesConfig.ready``). With
nothing registered the marketplace runs as if no dispute existed: nothing is held,
nothing blocks publishing, no case stands behind a rejection.
"""

from collections.abc import Callable
from typing import Any

PublishBlocker = Callable[[Any], bool]
RejectionHold = Callable[[int], bool]
RejectionWithdrawal = Callable[..., bool]
BatchHold = Callable[[int], bool]

_publish_blockers: list[PublishBlocker] = []
_rejection_holds: list[RejectionHold] = []
_rejection_withdrawals: list[RejectionWithdrawal] = []
_batch_holds: list[BatchHold] = []


def _register(registry: list[Any], function: Any) -> None:
    # Idempotent: AppConfig.ready may run more than once (tests, autoreload).
    if function not in registry:
        registry.append(function)


def publish_blocker_register(function: PublishBlocker) -> None:
    """``function(organisation) -> bool``: True while the organisation may not publish."""
    _register(_publish_blockers, function)


def rejection_hold_register(function: RejectionHold) -> None:
    """``function(assignment_id) -> bool``: True while a rejection must not become final."""
    _register(_rejection_holds, function)


def rejection_withdrawal_register(function: RejectionWithdrawal) -> None:
    """``function(*, assignment_id, actor) -> bool``: resolves the open case behind a
    rejection its requester withdraws, paying the work in full, and returns True; returns
    False when no case holds it; raises ``AppError`` when the case cannot be resolved so."""
    _register(_rejection_withdrawals, function)


def batch_hold_register(function: BatchHold) -> None:
    """``function(batch_id) -> bool``: True while a case holds the batch (it stays paused)."""
    _register(_batch_holds, function)


def batch_is_held(batch_id: int) -> bool:
    return any(held(batch_id) for held in _batch_holds)


def organisation_publish_blocked(organisation: Any) -> bool:
    return any(blocked(organisation) for blocked in _publish_blockers)


def rejection_is_held(assignment_id: int) -> bool:
    return any(held(assignment_id) for held in _rejection_holds)


def rejection_withdrawal_resolve_case(*, assignment_id: int, actor: Any) -> bool:
    """True if a registered app resolved the case holding this rejection (see above)."""
    return any(resolve(assignment_id=assignment_id, actor=actor) for resolve in _rejection_withdrawals)
