"""What accounts tells the apps that build on it, through functions they register at
start-up (``AppConfig.ready``), so that accounts never imports them.

The notifications app registers ``verification_listener_register`` to tell an
organisation's staff the verifier's decision.
"""

from collections.abc import Callable
from typing import Any

VerificationListener = Callable[..., None]

_verification_listeners: list[VerificationListener] = []


def verification_listener_register(function: VerificationListener) -> None:
    """``function(*, organisation, decision, reason)``, called inside the verifying transaction."""
    if function not in _verification_listeners:
        _verification_listeners.append(function)


def verification_decided(*, organisation: Any, decision: str, reason: str) -> None:
    for listener in _verification_listeners:
        listener(organisation=organisation, decision=decision, reason=reason)
