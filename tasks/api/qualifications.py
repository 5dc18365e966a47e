"""Qualifications: the organisation's (create, list, grant, revoke) and the worker's (read,
take the test)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import organisation_for_request
from core.api import StrictSerializer
from core.errors import NotFound
from tasks import selectors, services
from tasks.api.access import _user, _worker, _worker_by_pseudonym
from tasks.models import Qualification
from tasks.quality import selectors as quality_selectors


class QualificationIn(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField()
    test_questions = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    answer_key = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    pass_bps = serializers.IntegerField(required=False, default=10_000)
    estimated_minutes = serializers.IntegerField(
        required=False, default=1, help_text=("Longer than the governed free length: the test is paid.")
    )
    pool_size = serializers.IntegerField(
        required=False, default=0, help_text=("Questions drawn (in random order) for each attempt; 0: all.")
    )


class QualificationOut(serializers.Serializer):  # type: ignore[type-arg]
    """What anyone sees of a qualification: never the answer key."""

    id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.slug")
    name = serializers.CharField()
    description = serializers.CharField()
    test_questions = serializers.JSONField()
    pass_bps = serializers.IntegerField()
    pool_size = serializers.IntegerField()
    questions_per_attempt = serializers.IntegerField()
    sandbox = serializers.BooleanField(
        source="is_sandbox",
        help_text="Made at the sandbox endpoint: gates sandbox batches only, its test pays nothing.",
    )


class GrantIn(StrictSerializer):
    worker = serializers.CharField(help_text=("The worker's pseudonym."))
    value = serializers.IntegerField(required=False, default=1)


class OrganisationQualificationsView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=QualificationOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(QualificationOut(organisation.qualifications.order_by("id"), many=True).data)

    @extend_schema(request=QualificationIn, responses={201: QualificationOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        data = QualificationIn(data=request.data)
        data.is_valid(raise_exception=True)
        qualification = services.qualification_create(
            organisation=organisation,
            actor=_user(request),
            **data.validated_data,
        )
        return Response(QualificationOut(qualification).data, status=201)


class QualificationGrantView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=GrantIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str, qualification_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        qualification = organisation.qualifications.filter(pk=qualification_id).first()
        if qualification is None:
            raise NotFound("qualification")
        data = GrantIn(data=request.data)
        data.is_valid(raise_exception=True)
        worker = _worker_by_pseudonym(data.validated_data["worker"])
        grant = services.qualification_grant(
            qualification=qualification,
            worker=worker,
            actor=_user(request),
            value=data.validated_data["value"],
        )
        return Response({"qualification": qualification.pk, "worker": worker.pseudonym, "value": grant.value})


class QualificationDetailView(APIView):
    @extend_schema(responses=QualificationOut)
    def get(self, request: Request, qualification_id: int) -> Response:
        qualification = selectors.qualification_for_worker(qualification_id=qualification_id, worker=_user(request))
        return Response(QualificationOut(qualification).data)


class TestIn(StrictSerializer):
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True))


def _standing(qualification: Qualification, worker: Any) -> dict[str, Any]:
    standing = services.qualification_retake_standing(qualification=qualification, worker=worker)
    return {
        "attempts_used": standing.attempts_used,
        "attempts_allowed": standing.attempts_allowed,
        "next_attempt_at": standing.next_attempt_at,
        "granted": standing.granted,
    }


class QualificationTestView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, qualification_id: int) -> Response:
        """Opens an attempt (or the one open): its questions drawn from the pool in random
        order (never the answer key), the pass mark, and for a paid test its pay, escrowed
        from now. Refused within the governed retake wait or after the last attempt."""
        worker = _worker(request)
        qualification: Qualification = selectors.qualification_for_worker(
            qualification_id=qualification_id, worker=worker
        )
        attempt = services.qualification_test_start(qualification=qualification, worker=worker)
        offer = services.qualification_test_offer(qualification=qualification, worker=worker)
        return Response(
            {
                "attempt": attempt.number,
                "questions": quality_selectors.qualification_attempt_questions(attempt),
                "pass_bps": attempt.pass_bps,
                "estimated_minutes": qualification.estimated_minutes,
                "pay": offer.amount if offer is not None else 0,
                "pay_status": offer.status if offer is not None else "unpaid_test",
                **_standing(qualification, worker),
            }
        )

    @extend_schema(request=TestIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, qualification_id: int) -> Response:
        """Scores the open attempt: the score and the pass mark, never the answer key."""
        worker = _worker(request)
        qualification: Qualification = selectors.qualification_for_worker(
            qualification_id=qualification_id, worker=worker
        )
        data = TestIn(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = services.qualification_test_take(
            qualification=qualification, worker=worker, answers=data.validated_data["answers"]
        )
        return Response(
            {
                "attempt": attempt.number,
                "score_bps": attempt.score_bps,
                "correct": attempt.correct,
                "questions": len(attempt.question_names),
                "pass_bps": attempt.pass_bps,
                **_standing(qualification, worker),
            }
        )


class QualificationRevokeView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, qualification_id: int, pseudonym: str) -> Response:
        organisation = organisation_for_request(request, slug, "publish")
        qualification = organisation.qualifications.filter(pk=qualification_id).first()
        if qualification is None:
            raise NotFound("qualification")
        services.qualification_revoke(
            qualification=qualification, worker=_worker_by_pseudonym(pseudonym), actor=_user(request)
        )
        return Response(status=204)
