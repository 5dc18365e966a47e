"""Saved searches and their alerts: a worker keeps the feed's filters and hears about new
matching work. Alerts go out after a batch's publication commits (a job), in bulk, and only
to workers who may take the batch (not blocked, requirements met)."""

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from core.audit import audit_record
from core.errors import AppError, NotFound
from core.money import format_amount
from notifications.services import notify
from tasks.models import Batch, SavedSearch
from tasks.selectors import attach_requirements, keywords_match, worker_ineligibility

MAX_SEARCHES = 20
# A worker matched by several searches hears once, by the most insistent alert chosen.
ALERT_STRENGTH = {SavedSearch.Alert.INBOX: 1, SavedSearch.Alert.EMAIL: 2, SavedSearch.Alert.PUSH: 3}


def saved_search_create(
    *,
    worker: User,
    name: str,
    alert: str = SavedSearch.Alert.INBOX,
    min_hourly_pay: int | None = None,
    max_minutes: int | None = None,
    keywords: str = "",
    requester: str = "",
) -> SavedSearch:
    """Saves the feed's filters under ``name``. Raises ``invalid`` (bad filters, unknown
    requester, name used) and ``too_many_searches``; nothing is saved then."""
    fields: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 80:
        fields["name"] = [_("Give the search a name of up to 80 characters.")]
    if alert not in SavedSearch.Alert.values:
        fields["alert"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(SavedSearch.Alert.values)}]
    if min_hourly_pay is not None and min_hourly_pay < 0:
        fields["min_hourly_pay"] = [_("Cannot be negative.")]
    if max_minutes is not None and max_minutes < 1:
        fields["max_minutes"] = [_("At least 1.")]
    if len(keywords) > 200:
        fields["keywords"] = [_("At most 200 characters.")]
    organisation = None
    if requester:
        organisation = Organisation.objects.filter(slug=requester).first()
        if organisation is None:
            fields["requester"] = [_("No requester with that name.")]
    if name and SavedSearch.objects.filter(worker=worker, name=name).exists():
        fields["name"] = [_("You already have a search with this name.")]
    if fields:
        raise AppError("invalid", _("Check the search's filters."), fields=fields)
    with transaction.atomic():
        if SavedSearch.objects.filter(worker=worker).count() >= MAX_SEARCHES:
            raise AppError(
                "too_many_searches",
                _("You can keep up to %(MAX_SEARCHES)s searches; delete one first.") % {"MAX_SEARCHES": MAX_SEARCHES},
            )
        search = SavedSearch.objects.create(
            worker=worker,
            name=name,
            alert=alert,
            min_hourly_pay=min_hourly_pay,
            max_minutes=max_minutes,
            keywords=" ".join(keywords.split()),
            requester=organisation,
        )
        audit_record(actor=worker, action="saved_search.created", target=search, after={"alert": alert})
    return search


def saved_search_delete(*, worker: User, search_id: int) -> None:
    with transaction.atomic():
        search = SavedSearch.objects.filter(pk=search_id, worker=worker).first()
        if search is None:
            raise NotFound("saved search")
        audit_record(actor=worker, action="saved_search.deleted", target=search)
        search.delete()


def saved_searches_for_worker(*, worker: User) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.filter(worker=worker).select_related("requester").order_by("id")


def saved_search_filters(search: SavedSearch) -> dict[str, Any]:
    """The feed filters of a saved search (``tasks.selectors.task_feed`` keywords): the
    same keywords rule its alerts use (``keywords_match``)."""
    return {
        "min_hourly_pay": search.min_hourly_pay,
        "max_minutes": search.max_minutes,
        "search": search.keywords,
        "requester": search.requester.slug if search.requester else None,
    }


def searches_matching(*, batch: Batch) -> QuerySet[SavedSearch]:
    """Alerting searches whose numeric and requester filters the batch meets (keywords are
    checked in Python, see ``saved_search_alerts``)."""
    return (
        SavedSearch.objects.exclude(alert=SavedSearch.Alert.NONE)
        .filter(Q(min_hourly_pay__isnull=True) | Q(min_hourly_pay__lte=batch.estimated_hourly_pay))
        .filter(Q(max_minutes__isnull=True) | Q(max_minutes__gte=batch.estimated_minutes))
        .filter(Q(requester__isnull=True) | Q(requester_id=batch.organisation_id))
        .select_related("worker")
        .order_by("id")
    )


def saved_search_alerts(*, batch_id: int) -> int:
    """Alerts the workers whose searches match the newly published batch; returns how many
    were told. Only workers who may take it (not blocked, requirements met) and not its own
    requester's staff. Idempotent per batch: a worker already told about it is skipped."""
    batch = Batch.objects.select_related("organisation").filter(pk=batch_id, status=Batch.Status.PUBLISHED).first()
    if batch is None:
        return 0
    batch = attach_requirements([batch])[0]
    words_of: dict[str, list[str]] = {}
    chosen: dict[int, tuple[str, str]] = {}
    workers: dict[int, User] = {}
    for search in searches_matching(batch=batch).iterator(chunk_size=1000):
        words = words_of.setdefault(search.keywords, search.keywords.lower().split())
        if words and not keywords_match(words, batch):
            continue
        previous = chosen.get(search.worker_id)
        if previous is None or ALERT_STRENGTH[search.alert] > ALERT_STRENGTH[previous[0]]:  # type: ignore[index]
            chosen[search.worker_id] = (search.alert, search.name)
            workers[search.worker_id] = search.worker
    from notifications.models import Notification

    already = set(
        Notification.objects.filter(
            category="saved_search_match", user_id__in=list(chosen), params__batch_id=batch.pk
        ).values_list("user_id", flat=True)
    )
    staff = set(User.objects.filter(groups=batch.organisation.staff_group_id).values_list("pk", flat=True))
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for worker_id, (alert, name) in chosen.items():
        worker = workers[worker_id]
        if worker_id in already or worker_id in staff or worker.is_suspended or not worker.is_active:
            continue
        if worker_ineligibility(worker=worker, batch=batch):
            continue
        groups[(alert, name)].append(worker_id)
    told = 0
    for (alert, name), user_ids in groups.items():
        params: dict[str, Any] = {
            "search": name,
            "batch": batch.title,
            "batch_id": batch.pk,
            "requester": batch.organisation.display_name,
            "hourly": format_amount(batch.estimated_hourly_pay, batch.currency),
        }
        told += notify(
            users=user_ids,
            category="saved_search_match",
            params=params,
            url=reverse("worker_batch", args=[batch.pk]),
            email_now=alert == SavedSearch.Alert.EMAIL,
            push=alert == SavedSearch.Alert.PUSH,
        )
    return told
