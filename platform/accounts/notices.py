"""Telling a person about a staff decision that concerns them (verification decided,
account suspended or restored, team invitation). One function, so the notification
service can take it over: today an e-mail queued when the decision commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction


def notify_person(*, email: str, subject: str, body: str) -> None:
    """Sends ``body`` to ``email`` after the current transaction commits (never for a
    decision that rolled back). A failing mail server does not undo the decision."""

    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True)

    transaction.on_commit(send)
