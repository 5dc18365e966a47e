"""Notification e-mail through Django's e-mail framework (anymail's backend in production).

Every message is written in the person's language with times in their time zone, links
to the inbox entry (which, after sign-in, leads to the thing concerned) and, for categories
one may opt out of, carries a signed one-click unsubscribe (RFC 8058:
``List-Unsubscribe`` and ``List-Unsubscribe-Post``).
"""

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.labels import category_label
from notifications import render
from notifications.categories import CATEGORIES
from notifications.models import Notification, NotificationSettings


def site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_link(*, user_id: int, category: str) -> str:
    from notifications.services import unsubscribe_token

    return site_link(reverse("notification_unsubscribe", args=[unsubscribe_token(user_id=user_id, category=category)]))


def _entry_text(notification: Notification, prefs: NotificationSettings) -> tuple[str, str]:
    words = render.words(
        category=notification.category,
        params=notification.params,
        language=prefs.reading_language,
        time_zone=prefs.time_zone,
    )
    link = site_link(reverse("inbox_open", args=[notification.pk]))
    return words.title, f"{words.body}\n{link}"


def notification_email(*, notification: Notification, user: User, prefs: NotificationSettings) -> EmailMessage:
    """One immediate e-mail for one inbox entry."""
    title, text = _entry_text(notification, prefs)
    headers: dict[str, str] = {}
    with translation.override(prefs.reading_language):
        footer = _("You get this e-mail because of your notification settings.")
        if CATEGORIES[notification.category].opt_out:
            link = unsubscribe_link(user_id=user.pk, category=notification.category)
            headers["List-Unsubscribe"] = f"<{link}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            footer += "\n" + _("Stop these e-mails: %(link)s") % {"link": link}
        else:
            footer = _("This message concerns your account or a case against you; it cannot be turned off.")
    return EmailMessage(
        subject=title,
        body=f"{text}\n\n-- \n{footer}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers=headers,
    )


def digest_email(*, user: User, prefs: NotificationSettings, entries: Sequence[Notification]) -> EmailMessage:
    """The daily digest: every entry kept for it since the last one, one paragraph each."""
    parts = []
    categories = sorted({entry.category for entry in entries})
    for entry in entries:
        title, text = _entry_text(entry, prefs)
        parts.append(f"* {title}\n  {text}")
    with translation.override(prefs.reading_language):
        subject = _("Your daily co-op summary: %(count)d new") % {"count": len(entries)}
        lines = [
            _("Stop e-mail about “%(category)s”: %(link)s")
            % {"category": category_label(category), "link": unsubscribe_link(user_id=user.pk, category=category)}
            for category in categories
            if CATEGORIES[category].opt_out
        ]
    return EmailMessage(
        subject=subject,
        body="\n\n".join(parts) + "\n\n-- \n" + "\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
