"""Notices to a worker and to a requester organisation (fair-pay top-ups paid or owed, ...)."""

from typing import Any

from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from notifications.render import is_sandbox, words
from notifications.selectors import inbox_for_user
from tasks.api.access import _user, _worker


class NoticeOut(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    message = serializers.CharField()
    batch = serializers.IntegerField(allow_null=True)
    sandbox = serializers.BooleanField(help_text="About sandbox work (play money).")
    created_at = serializers.DateTimeField()


def _notices_out(rows: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        shown = words(category=row.category, params=row.params, language=translation.get_language() or "en")
        out.append(
            {
                "kind": row.category,
                "message": shown.body,
                "batch": row.params.get("batch_id"),
                "sandbox": is_sandbox(row.params),
                "created_at": row.created_at,
            }
        )
    return out


class NoticesView(APIView):
    @extend_schema(operation_id="tasks_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request) -> Response:
        """The caller's latest 100 inbox entries in the older notices' shape (the full inbox,
        paginated and marked read, is ``/api/notifications/``)."""
        return Response(_notices_out(inbox_for_user(user=_worker(request))[:100]))


class OrganisationNoticesView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The caller's inbox entries about the organisation (fair-pay top-ups owed or paid, ...)."""
        organisation = organisation_for_request(request, slug)
        rows = inbox_for_user(user=_user(request)).filter(organisation=organisation)[:100]
        return Response(_notices_out(rows))
