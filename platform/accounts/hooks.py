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
    """``function(*, organisation, decision, reason, sentence, detail)``, called inside the verifying
    transaction: ``reason`` in English; ``sentence`` (its msgid, or "") and ``detail`` (the words
    slotted into it as ``%(detail)s``) let the reader's language write it again."""
    if function not in _verification_listeners:
        _verification_listeners.append(function)


def verification_decided(
    *, organisation: Any, decision: str, reason: str, sentence: str = "", detail: str = ""
) -> None:
    for listener in _verification_listeners:
        listener(organisation=organisation, decision=decision, reason=reason, sentence=sentence, detail=detail)


# --- Telling a person something (the notification service registers itself) ---------------------

PersonNotifier = Callable[..., None]
AddressNotifier = Callable[..., None]

_person_notifiers: list[PersonNotifier] = []
_address_notifiers: list[AddressNotifier] = []


def notifier_register(*, person: PersonNotifier, address: AddressNotifier) -> None:
    """``person(*, user, category, params, url)`` tells an account holder (inbox and e-mail);
    ``address(*, email, category, params, url)`` reaches an address that may have no account
    yet (an invitation). Both run inside the caller's transaction."""
    if person not in _person_notifiers:
        _person_notifiers.append(person)
    if address not in _address_notifiers:
        _address_notifiers.append(address)


def person_notify(*, user: Any, category: str, params: dict[str, Any], url: str = "") -> None:
    for notifier in _person_notifiers:
        notifier(user=user, category=category, params=params, url=url)


def address_notify(*, email: str, category: str, params: dict[str, Any], url: str = "") -> None:
    for notifier in _address_notifiers:
        notifier(email=email, category=category, params=params, url=url)
