"""The inbox through the API: list (paginated), mark read, settings, Web Push subscriptions."""

from typing import Any, cast

from django.urls import path
from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import Pagination, StrictSerializer, paginated
from notifications import selectors, services
from notifications.categories import CATEGORIES, EMAIL_MODES
from notifications.models import Notification
from notifications.render import is_sandbox, words


def _user(request: Request) -> User:
    return cast(User, request.user)


class NotificationOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    category = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    organisation = serializers.CharField(allow_null=True)
    sandbox = serializers.BooleanField(help_text="About sandbox work (play money); its title reads [Sandbox].")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


def notification_out(notification: Notification, *, language: str = "en", time_zone: str = "UTC") -> dict[str, Any]:
    shown = words(category=notification.category, params=notification.params, language=language, time_zone=time_zone)
    return {
        "id": notification.pk,
        "category": notification.category,
        "title": shown.title,
        "body": shown.body,
        "url": notification.url,
        "organisation": notification.organisation.slug if notification.organisation_id else None,  # type: ignore[union-attr]
        "sandbox": is_sandbox(notification.params),
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


def page_of(view: APIView, request: Request, rows: Any) -> Response:
    """One page of entries, each rendered in the reader's language and time zone."""
    prefs = selectors.settings_for(user=_user(request))
    paginator = Pagination()
    page = paginator.paginate_queryset(rows.select_related("organisation"), request, view=view) or []
    return paginator.get_paginated_response(
        [
            notification_out(row, language=prefs.language or translation.get_language(), time_zone=prefs.time_zone)
            for row in page
        ]
    )


class InboxView(APIView):
    @extend_schema(operation_id="notifications_list", responses=paginated(NotificationOut))
    def get(self, request: Request) -> Response:
        """The caller's inbox, newest first; ``?unread=1`` for unread entries only."""
        unread = request.query_params.get("unread") in ("1", "true")
        return page_of(self, request, selectors.inbox_for_user(user=_user(request), unread_only=unread))


class StatusOut(serializers.Serializer):  # type: ignore[type-arg]
    unread = serializers.IntegerField()
    mail_problem = serializers.CharField()


class StatusView(APIView):
    @extend_schema(operation_id="notifications_status", responses=StatusOut)
    def get(self, request: Request) -> Response:
        status = selectors.inbox_status(user=_user(request))
        return Response({"unread": status.unread, "mail_problem": status.mail_problem})


class ReadView(APIView):
    @extend_schema(operation_id="notifications_read", request=None, responses=NotificationOut)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = services.notification_mark_read(user=_user(request), notification_id=notification_id)
        prefs = selectors.settings_for(user=_user(request))
        return Response(
            notification_out(
                notification, language=prefs.language or translation.get_language(), time_zone=prefs.time_zone
            )
        )


class ReadAllView(APIView):
    @extend_schema(operation_id="notifications_read_all", request=None, responses={200: StatusOut})
    def post(self, request: Request) -> Response:
        services.notifications_mark_all_read(user=_user(request))
        return Response({"unread": 0, "mail_problem": selectors.inbox_status(user=_user(request)).mail_problem})


class SettingsIn(StrictSerializer):
    language = serializers.CharField(required=False)
    time_zone = serializers.CharField(required=False)
    email = serializers.DictField(child=serializers.ChoiceField(choices=EMAIL_MODES), required=False)


class SettingsOut(serializers.Serializer):  # type: ignore[type-arg]
    language = serializers.CharField()
    time_zone = serializers.CharField()
    email = serializers.DictField(child=serializers.CharField())
    cannot_opt_out = serializers.ListField(child=serializers.CharField())


def _settings_out(user: User) -> dict[str, Any]:
    prefs = selectors.settings_for(user=user)
    return {
        "language": prefs.language,
        "time_zone": prefs.time_zone,
        "email": services.preferences_for(user=user),
        "cannot_opt_out": sorted(key for key, spec in CATEGORIES.items() if not spec.opt_out),
    }


class SettingsView(APIView):
    @extend_schema(operation_id="notifications_settings", responses=SettingsOut)
    def get(self, request: Request) -> Response:
        return Response(_settings_out(_user(request)))

    @extend_schema(operation_id="notifications_settings_update", request=SettingsIn, responses=SettingsOut)
    def patch(self, request: Request) -> Response:
        data = SettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        values = data.validated_data
        if "language" in values or "time_zone" in values:
            current = selectors.settings_for(user=user)
            services.notification_settings_set(
                user=user,
                language=values.get("language", current.language),
                time_zone=values.get("time_zone", current.time_zone),
            )
        for category, mode in values.get("email", {}).items():
            services.preference_set(user=user, category=category, email=mode)
        return Response(_settings_out(user))


class PushKeysIn(StrictSerializer):
    p256dh = serializers.CharField()
    auth = serializers.CharField()


class PushSubscriptionIn(StrictSerializer):
    endpoint = serializers.CharField()
    keys = PushKeysIn()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)


class PushSubscriptionView(APIView):
    @extend_schema(operation_id="notifications_push_subscribe", request=PushSubscriptionIn, responses={201: None})
    def post(self, request: Request) -> Response:
        """Saves the browser's ``PushSubscription.toJSON()`` for the caller."""
        data = PushSubscriptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.push_subscription_save(
            user=_user(request),
            endpoint=values["endpoint"],
            p256dh=values["keys"]["p256dh"],
            auth=values["keys"]["auth"],
        )
        return Response(status=201)

    @extend_schema(operation_id="notifications_push_unsubscribe", request=PushSubscriptionIn, responses={204: None})
    def delete(self, request: Request) -> Response:
        services.push_subscription_delete(user=_user(request), endpoint=str(request.data.get("endpoint", "")))
        return Response(status=204)


urlpatterns = [
    path("notifications/", InboxView.as_view(), name="api-notifications"),
    path("notifications/status/", StatusView.as_view(), name="api-notifications-status"),
    path("notifications/read-all/", ReadAllView.as_view(), name="api-notifications-read-all"),
    path("notifications/settings/", SettingsView.as_view(), name="api-notifications-settings"),
    path("notifications/push-subscription/", PushSubscriptionView.as_view(), name="api-push-subscription"),
    path("notifications/<int:notification_id>/read/", ReadView.as_view(), name="api-notification-read"),
]
