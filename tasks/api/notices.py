"""Notices to a worker and to a requester organisation (fair-pay top-ups paid or owed, ...)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from tasks.api.access import _user
from tasks.models import Notice


class NoticeOut(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    message = serializers.CharField()
    batch = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class NoticesView(APIView):
    @extend_schema(operation_id="tasks_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request) -> Response:
        notices = Notice.objects.filter(user=_user(request)).order_by("-id")[:100]
        return Response(
            [{"kind": n.kind, "message": n.message, "batch": n.batch_id, "created_at": n.created_at} for n in notices]
        )


class OrganisationNoticesView(APIView):
    @extend_schema(operation_id="organisations_notices_list", responses=NoticeOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Notices to the requester (fair-pay top-ups owed or paid, ...)."""
        organisation = organisation_for_request(request, slug)
        notices = Notice.objects.filter(organisation=organisation).order_by("-id")[:100]
        return Response(
            [{"kind": n.kind, "message": n.message, "batch": n.batch_id, "created_at": n.created_at} for n in notices]
        )
