"""The one notification service, and the person's own settings.

``notify`` is how every app tells someone something: it writes inbox entries in bulk (in
chunks, so telling 100,000 members costs flat memory) and, by each person's preference for
the category, queues an e-mail at once or keeps it for their daily digest. Callers choose
the recipients and must pass only people who may see the thing concerned.
"""

import json
import logging
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any

from django.conf import settings as django_settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError, NotFound, language_problem
from core.queue import queue_on_commit
from notifications import render
from notifications.categories import CATEGORIES, DIGEST, EMAIL_MODES, IMMEDIATE, OFF
from notifications.models import (
    EmailSuppression,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
)
from notifications.reading import forget_reading_choice
from notifications.selectors import status_cache_key

logger = logging.getLogger(__name__)

CHUNK = 2000
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
_EMAIL_STATE = {IMMEDIATE: Notification.Email.PENDING, DIGEST: Notification.Email.DIGEST, OFF: Notification.Email.NONE}


def _require_category(category: str) -> None:
    if category not in CATEGORIES:
        raise AppError(
            "unknown_event",
            _("There is no notification event named '%(category)s'.") % {"category": category},
            status=400,
        )


def _clean_params(category: str, params: dict[str, Any]) -> dict[str, Any]:
    clean = {key: render.moment_param(value) if isinstance(value, datetime) else value for key, value in params.items()}
    try:
        render.words(category=category, params=clean)
    except (KeyError, TypeError, ValueError) as error:
        raise AppError(
            "invalid_params",
            _("The '%(category)s' notification needs the parameter %(error)s.")
            % {"category": category, "error": error},
            status=400,
        ) from error
    return clean


def _user_ids(users: Iterable[Any]) -> Iterator[int]:
    if isinstance(users, models.QuerySet):
        # A queryset of users or of user ids is read in chunks from the database.
        rows = users.values_list("pk", flat=True) if users.model is User and not users._fields else users  # type: ignore[attr-defined]
        yield from rows.iterator(chunk_size=CHUNK)
        return
    for user in users:
        yield user if isinstance(user, int) else user.pk


def _chunks(ids: Iterator[int]) -> Iterator[list[int]]:
    while chunk := list(islice(ids, CHUNK)):
        yield chunk


def forget_status(user_ids: list[int], *, again_on_commit: bool = True) -> None:
    """Drops the people's cached unread counts now and, for a small change, again on commit
    (a reader in between may have cached the old count). A bulk send skips the second pass,
    so memory stays flat: the cached figure lives for a minute at most."""
    keys = [status_cache_key(user_id) for user_id in user_ids]
    cache.delete_many(keys)
    if again_on_commit:
        transaction.on_commit(lambda: cache.delete_many(keys))


def notify(
    *,
    users: Iterable[Any],
    category: str,
    params: dict[str, Any],
    url: str = "",
    organisation: Organisation | None = None,
    email_now: bool = False,
    push: bool = False,
) -> int:
    """Tells ``users`` (users, user ids, or a queryset of either) about an event of
    ``category``; returns how many inbox entries were written.

    Each person gets an inbox entry and, by their preference for the category (or its
    default), an e-mail queued after commit or kept for their daily digest. ``email_now``
    makes the default an immediate e-mail (a saved search's e-mail alert); ``push`` also
    sends a Web Push message to their subscribed browsers. Runs inside the caller's
    transaction: if it rolls back, nobody is told. Raises ``unknown_event`` and
    ``invalid_params`` (400) before writing anything.
    """
    _require_category(category)
    spec = CATEGORIES[category]
    clean = _clean_params(category, params)
    default_mode = IMMEDIATE if email_now or spec.always_email else spec.default_email
    honour_choice = not spec.always_email
    write = _write_chunk_sql if connection.vendor == "postgresql" else _write_chunk_orm
    created = 0
    with transaction.atomic():
        for index, chunk in enumerate(_chunks(_user_ids(users))):
            written = write(chunk, category, clean, url, organisation, default_mode, honour_choice)
            created += written.count
            if written.mail_pending:
                queue_on_commit("notifications.jobs.send_emails", first_id=written.first, last_id=written.last)
            if push:
                queue_on_commit("notifications.jobs.send_push", first_id=written.first, last_id=written.last)
            forget_status(chunk, again_on_commit=index == 0 and len(chunk) < CHUNK)
    return created


@dataclass(frozen=True)
class _Written:
    count: int
    first: int
    last: int
    mail_pending: bool


def _write_chunk_orm(
    chunk: list[int],
    category: str,
    params: dict[str, Any],
    url: str,
    organisation: Any,
    default_mode: str,
    honour_choice: bool = True,
) -> _Written:
    chosen = (
        dict(
            NotificationPreference.objects.filter(user_id__in=chunk, category=category).values_list("user_id", "email")
        )
        if honour_choice
        else {}
    )
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user_id=user_id,
                category=category,
                params=params,
                url=url,
                organisation=organisation,
                email=_EMAIL_STATE[chosen.get(user_id, default_mode)],
            )
            for user_id in chunk
        ],
        batch_size=CHUNK,
    )
    pending = any(row.email == Notification.Email.PENDING for row in rows)
    return _Written(len(rows), rows[0].pk, rows[-1].pk, pending)


_INSERT_CHUNK = """
WITH inserted AS (
    INSERT INTO {notification} (user_id, category, params, url, organisation_id, created_at, email)
    SELECT ids.user_id, %(category)s, %(params)s::jsonb, %(url)s, %(organisation)s, %(now)s,
           CASE COALESCE(chosen.email, %(default)s)
               WHEN 'immediate' THEN 'pending' WHEN 'digest' THEN 'digest' ELSE 'none' END
    FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS ids(user_id, position)
    LEFT JOIN {preference} AS chosen
        ON chosen.user_id = ids.user_id AND chosen.category = %(category)s AND %(honour_choice)s
    ORDER BY ids.position
    RETURNING id, email
)
SELECT count(*), min(id), max(id), coalesce(bool_or(email = 'pending'), false) FROM inserted
"""


def _write_chunk_sql(
    chunk: list[int],
    category: str,
    params: dict[str, Any],
    url: str,
    organisation: Any,
    default_mode: str,
    honour_choice: bool = True,
) -> _Written:
    """The same rows as ``_write_chunk_orm`` in one statement on PostgreSQL: the chunk's ids
    travel as one array and the preferences are joined in the database, so the cost does not
    lie in building 2,000 model instances and their 16,000 parameters in Python (a vote
    opening for 100,000 members took 32 s that way, a few seconds this way)."""
    sql = _INSERT_CHUNK.format(
        notification=Notification._meta.db_table, preference=NotificationPreference._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "ids": chunk,
                "category": category,
                "params": json.dumps(params),
                "url": url,
                "organisation": organisation.pk if organisation is not None else None,
                "now": timezone.now(),
                "default": default_mode,
                "honour_choice": honour_choice,
            },
        )
        count, first, last, pending = cursor.fetchone()
    return _Written(int(count), int(first), int(last), bool(pending))


# --- Reading -------------------------------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Marks one of the person's own entries read (idempotent); anyone else's is ``not_found``."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id, user=user).first()
        if notification is None:
            raise NotFound("notification")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        forget_status([user.pk])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    with transaction.atomic():
        count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        forget_status([user.pk])
    return count


# --- Preferences ----------------------------------------------------------------------------------


def preference_set(*, user: User, category: str, email: str) -> NotificationPreference:
    """Sets how the category's e-mail reaches the person. Turning off a category one cannot
    opt out of (a suspension, a case against them) is ``cannot_unsubscribe`` (409)."""
    _require_category(category)
    if email not in EMAIL_MODES:
        raise AppError(
            "invalid",
            _("Choose one of: %(EMAIL_MODES)s.") % {"EMAIL_MODES": ", ".join(EMAIL_MODES)},
            status=400,
            fields={"email": [_("Unknown.")]},
        )
    if CATEGORIES[category].always_email and email != IMMEDIATE:
        raise AppError(
            "cannot_unsubscribe",
            gettext("Security notices about your account are always e-mailed at once; they cannot be changed."),
            status=409,
        )
    if email == OFF and not CATEGORIES[category].opt_out:
        raise AppError(
            "cannot_unsubscribe",
            _("These messages cannot be turned off: they concern a case against you or your account's standing."),
            status=409,
        )
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.update_or_create(
            user=user, category=category, defaults={"email": email}
        )
        audit_record(actor=user, action="notification.preference_set", target=preference, after={"email": email})
    return preference


def preferences_for(*, user: User) -> dict[str, str]:
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("category", "email"))
    return {key: chosen.get(key, spec.default_email) for key, spec in CATEGORIES.items()}


def notification_settings_set(*, user: User, language: str, time_zone: str) -> NotificationSettings:
    fields: dict[str, list[str]] = {}
    if (problem := language_problem(language)) is not None:  # empty: not chosen, the browser's is used
        fields["language"] = [problem]
    if time_zone not in zoneinfo.available_timezones():
        fields["time_zone"] = [_("Unknown time zone; use a name like Europe/Berlin.")]
    if fields:
        raise AppError("invalid", _("Check the language and time zone."), status=400, fields=fields)
    with transaction.atomic():
        found, _created = NotificationSettings.objects.update_or_create(
            user=user, defaults={"language": language, "time_zone": time_zone}
        )
        audit_record(
            actor=user, action="notification.settings_set", target=found, after={"language": language, "tz": time_zone}
        )
        # The cached copy goes now and again once committed (a request between the two
        # could have cached the old choice).
        forget_reading_choice(user_id=user.pk)
        transaction.on_commit(partial(forget_reading_choice, user_id=user.pk))
    return found


# --- Unsubscribe ------------------------------------------------------------------------------------


def unsubscribe_token(*, user_id: int, category: str) -> str:
    return signing.dumps({"u": user_id, "c": category}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_apply(*, token: str) -> tuple[User, str]:
    """The one-click unsubscribe: turns the category's e-mail off for the person the link
    was signed for. A tampered or foreign link is ``invalid_link`` (400) and changes nothing."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=int(data["u"]))
        category = str(data["c"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError) as error:
        raise AppError(
            "invalid_link",
            _(
                "This unsubscribe link is not valid (it was changed or cut short). "
                "Nothing was changed; manage your e-mail from your notification "
                "settings instead."
            ),
            status=400,
        ) from error
    preference_set(user=user, category=category, email=OFF)
    return user, category


# --- Addresses the provider refused ------------------------------------------------------------------


def email_suppress(*, address: str, reason: str, event_id: str = "") -> EmailSuppression | None:
    """Stops all mail to ``address`` after a bounce or complaint reported by the provider's
    (verified) webhook, and flags the person so the site tells them on their next visit.
    Idempotent per address."""
    address = address.strip().lower()
    if not address or reason not in ("bounced", "complained"):
        return None
    with transaction.atomic():
        suppression, created = EmailSuppression.objects.get_or_create(
            address=address, defaults={"reason": reason, "provider_event_id": event_id}
        )
        if not created:
            return suppression
        user = User.objects.filter(email__iexact=address).first()
        if user is not None:
            NotificationSettings.objects.update_or_create(user=user, defaults={"mail_problem": reason})
            Notification.objects.filter(
                user=user, email__in=[Notification.Email.PENDING, Notification.Email.DIGEST]
            ).update(email=Notification.Email.SUPPRESSED)
            forget_status([user.pk])
        audit_record(actor=None, action="email.suppressed", target=suppression, after={"reason": reason})
    return suppression


def mail_problem_seen(*, user: User) -> None:
    """The person saw the warning; mail stays stopped until they change their address."""
    with transaction.atomic():
        NotificationSettings.objects.filter(user=user).update(mail_problem="")
        forget_status([user.pk])


# --- Web Push subscriptions ----------------------------------------------------------------------------


def push_subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Records the browser's subscription (the worker allowed notifications there)."""
    fields: dict[str, list[str]] = {}
    if not endpoint.startswith("https://") or len(endpoint) > 1000:
        fields["endpoint"] = [_("A push service's https address is required.")]
    if not p256dh or len(p256dh) > 200:
        fields["keys.p256dh"] = [_("Required.")]
    if not auth or len(auth) > 100:
        fields["keys.auth"] = [_("Required.")]
    if fields:
        raise AppError("invalid", _("The browser's subscription is incomplete."), status=400, fields=fields)
    with transaction.atomic():
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
        )
        audit_record(actor=user, action="push.subscribed", target=subscription)
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> int:
    deleted, _created = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def staff_of(organisation: Organisation) -> models.QuerySet[User, int]:
    """The people who act for a requester organisation (its staff group)."""
    return User.objects.filter(groups=organisation.staff_group_id, is_active=True).values_list("pk", flat=True)


def person_notify(*, user: User, category: str, params: dict[str, Any], url: str = "") -> None:
    """One person, through ``notify`` (registered with ``accounts.hooks`` for the account
    security notices, which accounts cannot send itself)."""
    notify(users=[user.pk], category=category, params=params, url=url)


def address_notify(*, email: str, category: str, params: dict[str, Any], url: str = "") -> None:
    """Reaches ``email``: the active account with that address gets ``notify`` (inbox and
    e-mail); an address without one (a person invited before registering) gets the e-mail
    alone, in the same words, after commit, unless the address bounced or complained.
    Raises ``unknown_event``/``invalid_params`` (400) before anything is written."""
    _require_category(category)
    clean = _clean_params(category, params)
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).order_by("pk").first()
    if user is not None:
        notify(users=[user.pk], category=category, params=clean, url=url)
        return
    if EmailSuppression.objects.filter(address=email.strip().lower()).exists():
        return
    words = render.words(category=category, params=clean, language=django_settings.LANGUAGE_CODE)
    link = django_settings.SITE_URL.rstrip("/") + url if url else ""
    with translation.override(django_settings.LANGUAGE_CODE):
        footer = gettext("This message concerns your account or a case against you; it cannot be turned off.")
    message = EmailMessage(
        subject=words.title,
        body=f"{words.body}\n{link}\n\n-- \n{footer}\n",
        from_email=django_settings.DEFAULT_FROM_EMAIL,
        to=[email.strip()],
    )
    transaction.on_commit(lambda: message.send(fail_silently=True))


def verification_notify(
    *, organisation: Organisation, decision: str, reason: str, sentence: str = "", detail: str = ""
) -> None:
    """The verifier's decision, to the organisation's staff (registered with ``accounts.hooks``).
    A ``sentence`` (msgid) with its ``detail`` is written in each reader's language when read
    (``render.SENTENCE_PARAMS``); ``reason`` keeps the English, for readers from before."""
    params = {"organisation": organisation.display_name, "decision": decision, "reason": reason}
    if sentence:
        params |= {"reason_sentence": sentence, "reason_detail": detail}
    notify(
        users=staff_of(organisation),
        category="verification",
        params=params,
        url=f"/org/{organisation.slug}/",
        organisation=organisation,
    )
