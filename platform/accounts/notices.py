"""Telling a person about a decision that concerns them by their e-mail address (a team
invitation: the invited person may have no account yet). Through the notification service,
registered in ``accounts.hooks``: an account holder gets an inbox entry and the e-mail; an
address without an account gets the e-mail alone, in the same words."""

from typing import Any

from accounts import hooks


def notify_person(*, email: str, category: str, params: dict[str, Any], url: str = "") -> None:
    """Tells the person at ``email`` about ``category`` with ``params`` once the current
    transaction commits (never for a decision that rolled back). A failing mail server does
    not undo the decision."""
    hooks.address_notify(email=email, category=category, params=params, url=url)
