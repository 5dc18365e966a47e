"""The one way this app tells a person about their account's security.

Sign-in lockouts, a new or changed payout destination, two-factor and passkey changes all
go through ``security_notice_send``, which hands them to the notification service
(``notifications.services.notify``, registered in ``accounts.hooks``): an inbox entry and
an e-mail sent at once, in the person's language, that they cannot turn off (the
categories are ``always_email``: no unsubscribe link, no digest).
"""

from typing import Any

from accounts import hooks
from accounts.models import User


def security_notice_send(*, user: User, category: str, params: dict[str, Any], url: str = "") -> None:
    """Tells ``user`` about ``category`` (a notification category marked ``always_email``)
    inside the current transaction; the e-mail goes after commit, nothing if it rolls back.
    A mail failure never undoes the change it reports (the mail job retries it)."""
    hooks.person_notify(user=user, category=category, params=params, url=url)
