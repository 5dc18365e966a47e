"""The inbox: every notification, the unread count in the menu, mark read, settings, the
one-click unsubscribe and the Web Push service worker."""

import zoneinfo
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import AppError
from core.labels import category_label, label
from frontend.pages import app_page, refusal, user_of
from notifications import selectors, services
from notifications.categories import CATEGORIES, EMAIL_MODES
from notifications.render import words

INBOX_PAGE = 30


def _local(target: str) -> bool:
    """A path on this site (never an address elsewhere)."""
    return bool(target) and target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None)


def _rendered(rows: Any) -> list[dict[str, Any]]:
    """The entries as this page's reader reads them: the page's language (their choice, else
    their browser's) and time zone."""
    shown = []
    for row in rows:
        text = words(
            category=row.category,
            params=row.params,
            language=translation.get_language(),
            time_zone=timezone.get_current_timezone_name(),
        )
        shown.append({"entry": row, "title": text.title, "body": text.body})
    return shown


@app_page
def inbox(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.inbox_for_user(user=user, unread_only=unread_only), INBOX_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "frontend/inbox/inbox.html",
        {"page": page, "entries": _rendered(page.object_list), "unread_only": unread_only},
    )


@app_page
def inbox_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """The link in every e-mail: marks the entry read and goes to the thing concerned
    (after sign-in, for someone who arrives from their mail)."""
    notification = services.notification_mark_read(user=user_of(request), notification_id=notification_id)
    if _local(notification.url):
        return redirect(notification.url)
    return redirect("inbox")


@app_page
@require_POST
def inbox_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.notification_mark_read(user=user_of(request), notification_id=notification_id)
    return redirect("inbox")


@app_page
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=user_of(request))
    messages.success(
        request, ngettext("%(count)d marked as read.", "%(count)d marked as read.", count) % {"count": count}
    )
    return redirect("inbox")


@app_page
@require_POST
def mail_problem_seen(request: HttpRequest) -> HttpResponse:
    services.mail_problem_seen(user=user_of(request))
    target = request.POST.get("next", "")
    return redirect(target if _local(target) else "inbox")


@app_page
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if request.method == "POST":
        try:
            services.notification_settings_set(
                user=user,
                language=request.POST.get("language", "en"),
                time_zone=request.POST.get("time_zone", "UTC").strip(),
            )
            current = services.preferences_for(user=user)
            for key, spec in CATEGORIES.items():
                if spec.always_email:
                    continue
                wanted = request.POST.get(f"email_{key}")
                if wanted and wanted != current[key]:
                    services.preference_set(user=user, category=key, email=wanted)
        except AppError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("notification_settings")
    prefs = selectors.settings_for(user=user)
    chosen = services.preferences_for(user=user)
    rows = [
        {
            "key": key,
            "title": category_label(key),
            "mode": chosen[key],
            "opt_out": spec.opt_out,
        }
        for key, spec in CATEGORIES.items()
        if not spec.always_email  # security notices: always at once, nothing to choose
    ]
    return render(
        request,
        "frontend/inbox/settings.html",
        {
            "prefs": prefs,
            "rows": rows,
            "modes": [(mode, label(mode)) for mode in EMAIL_MODES],
            "languages": django_settings.LANGUAGES,
            "time_zones": sorted(zoneinfo.available_timezones()),
        },
    )


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The signed one-click unsubscribe. GET shows what the link does; POST (the mail client's
    one-click ``List-Unsubscribe-Post``, or the button) applies it. No sign-in needed: the
    signature is the authority. A tampered link is refused and changes nothing."""
    if request.method == "POST":
        try:
            _user, category = services.unsubscribe_apply(token=token)
        except AppError as error:
            return refusal(request, error)
        return render(request, "frontend/inbox/unsubscribed.html", {"category": category_label(category)})
    from django.core import signing

    try:
        data = signing.loads(token, salt=services.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return refusal(request, AppError("invalid_link", _("This unsubscribe link is not valid. Nothing was changed.")))
    return render(request, "frontend/inbox/unsubscribe.html", {"category": category_label(data.get("c", ""))})


def push_worker(request: HttpRequest) -> HttpResponse:
    """The Web Push service worker, served from the site's root so its scope is the site."""
    from django.contrib.staticfiles import finders

    found = finders.find("frontend/push-worker.js")
    with open(str(found), encoding="utf-8") as handle:
        response = HttpResponse(handle.read(), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response
