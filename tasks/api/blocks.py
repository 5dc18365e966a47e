"""The organisation's own block list of workers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from core.api import StrictSerializer
from tasks import services
from tasks.api.access import _user, _worker_by_pseudonym


class BlockIn(StrictSerializer):
    worker = serializers.CharField(help_text="The worker's pseudonym.")
    reason = serializers.CharField()


class BlockOut(serializers.Serializer):  # type: ignore[type-arg]
    worker = serializers.CharField(help_text="The worker's pseudonym.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrganisationBlocksView(APIView):
    accepts_organisation_keys = True

    @extend_schema(operation_id="organisations_blocks_list", responses=BlockOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        blocks = organisation.blocked_workers.select_related("worker").order_by("id")
        return Response(
            [{"worker": b.worker.pseudonym, "reason": b.reason, "created_at": b.created_at} for b in blocks]
        )

    @extend_schema(request=BlockIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "review")
        data = BlockIn(data=request.data)
        data.is_valid(raise_exception=True)
        worker = _worker_by_pseudonym(data.validated_data["worker"])
        block = services.worker_block(
            organisation=organisation,
            actor=_user(request),
            worker=worker,
            reason=data.validated_data["reason"],
        )
        return Response({"worker": worker.pseudonym, "reason": block.reason}, status=201)


class OrganisationBlockDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, pseudonym: str) -> Response:
        organisation = organisation_for_request(request, slug, "review")
        services.worker_unblock(organisation=organisation, actor=_user(request), worker=_worker_by_pseudonym(pseudonym))
        return Response(status=204)
