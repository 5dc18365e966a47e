"""The one way this app tells a person about their account's security by e-mail.

Sign-in lockouts, a new or changed payout destination, two-factor changes and erasure
requests all go through ``security_notice_send``, so the notification service can take
them over by changing this one function.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import User


def security_notice_send(*, user: User, subject: str, body: str) -> None:
    """E-mails ``body`` to ``user``'s address once the current transaction commits
    (at once outside one); nothing is sent if it rolls back. A mail failure is logged
    by Django and never undoes the change it reports."""
    address = user.email
    if not address:
        return

    def send() -> None:
        send_mail(
            subject=f"[co-op] {subject}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
            fail_silently=True,
        )

    transaction.on_commit(send)
