"""The staff console's API, under ``/api/staff/``: for people holding a staff role, each
action checked against the role it needs (in the services), each taking a reason and
writing an audit row. Organisation API keys are refused: staff act as themselves.

The list of role holders and the published reason lists are public."""

from typing import Any, cast

from django.http import FileResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts import verification
from accounts.models import ApiKey, OrganisationVerification, StaffRole, User
from accounts.reasons import SUSPENSION_REASONS, VERIFICATION_REFUSAL_REASONS
from core.api import StrictSerializer
from core.errors import NotFound, PermissionDenied
from disputes import services as dispute_services
from staff import selectors
from staff.downloads import document_response


def _staff(request: Request) -> User:
    """The signed-in person, never an organisation key; ``permission_denied`` without a staff role."""
    if isinstance(request.auth, ApiKey):
        raise PermissionDenied(_("The staff console takes a personal sign-in, not an organisation key."))
    user = cast(User, request.user)
    account_selectors.require_any_staff_role(user=user)
    return user


class StaffReasonIn(StrictSerializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000)


class VerificationRefuseIn(StrictSerializer):
    code = serializers.CharField(allow_blank=True, max_length=40)
    text = serializers.CharField(allow_blank=True, max_length=2000)


class VerificationAskIn(StrictSerializer):
    text = serializers.CharField(allow_blank=True, max_length=2000)


class SuspendIn(StrictSerializer):
    code = serializers.CharField(allow_blank=True, max_length=40)
    reason = serializers.CharField(allow_blank=True, max_length=2000)


class VerificationDocumentOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class StaffVerificationOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.slug")
    display_name = serializers.CharField(source="organisation.display_name")
    state = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    registration_number = serializers.CharField()
    address = serializers.CharField()
    responsible_person = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    refusal_code = serializers.CharField()
    decision_text = serializers.CharField()
    documents = VerificationDocumentOut(many=True, source="documents.all")


class StaffMeOut(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class NameChangeStaffOut(serializers.Serializer):  # type: ignore[type-arg]
    old_name = serializers.CharField()
    new_name = serializers.CharField()
    changed_at = serializers.DateTimeField()


class StaffOrganisationOut(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    display_name = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    state = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    name_history = NameChangeStaffOut(many=True)


class StaffPersonOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    username = serializers.CharField()
    pseudonym = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    suspended = serializers.BooleanField()
    suspension_reason = serializers.CharField(allow_blank=True)


class AuditRowOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    before = serializers.DictField()
    after = serializers.DictField()


class ReasonListsOut(serializers.Serializer):  # type: ignore[type-arg]
    verification_refusal = serializers.DictField(child=serializers.CharField())
    suspension = serializers.DictField(child=serializers.CharField())


class RoleHolderOut(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField()
    role = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True)
    appointed_by = serializers.CharField(help_text="proposal (a members' vote) or bootstrap (first holders)")
    proposal = serializers.IntegerField(allow_null=True)


class StaffMeView(APIView):
    @extend_schema(responses=StaffMeOut)
    def get(self, request: Request) -> Response:
        user = _staff(request)
        return Response({"username": user.username, "roles": sorted(account_selectors.user_staff_roles(user=user))})


class VerificationQueueView(APIView):
    @extend_schema(responses=StaffVerificationOut(many=True))
    def get(self, request: Request) -> Response:
        queue = account_selectors.verification_queue(user=_staff(request)).prefetch_related("documents")
        return Response(StaffVerificationOut(queue[:200], many=True).data)


class VerificationDetailView(APIView):
    @extend_schema(responses=StaffVerificationOut)
    def get(self, request: Request, verification_id: int) -> Response:
        found = account_selectors.verification_for_verifier(user=_staff(request), verification_id=verification_id)
        return Response(StaffVerificationOut(found).data)


def _verification(request: Request, verification_id: int) -> tuple[User, OrganisationVerification]:
    user = _staff(request)
    return user, account_selectors.verification_for_verifier(user=user, verification_id=verification_id)


class VerificationApproveView(APIView):
    @extend_schema(request=StaffReasonIn, responses=StaffVerificationOut)
    def post(self, request: Request, verification_id: int) -> Response:
        user, found = _verification(request, verification_id)
        data = StaffReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        decided = verification.verification_approve(
            verification=found, actor=user, reason=data.validated_data["reason"]
        )
        return Response(StaffVerificationOut(decided).data)


class VerificationRefuseView(APIView):
    @extend_schema(request=VerificationRefuseIn, responses=StaffVerificationOut)
    def post(self, request: Request, verification_id: int) -> Response:
        user, found = _verification(request, verification_id)
        data = VerificationRefuseIn(data=request.data)
        data.is_valid(raise_exception=True)
        decided = verification.verification_refuse(
            verification=found, actor=user, code=data.validated_data["code"], text=data.validated_data["text"]
        )
        return Response(StaffVerificationOut(decided).data)


class VerificationAskView(APIView):
    @extend_schema(request=VerificationAskIn, responses=StaffVerificationOut)
    def post(self, request: Request, verification_id: int) -> Response:
        user, found = _verification(request, verification_id)
        data = VerificationAskIn(data=request.data)
        data.is_valid(raise_exception=True)
        decided = verification.verification_request_information(
            verification=found, actor=user, text=data.validated_data["text"]
        )
        return Response(StaffVerificationOut(decided).data)


class VerificationDocumentView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, verification_id: int, document_id: int) -> FileResponse:
        document = verification.verification_document_for_verifier(user=_staff(request), document_id=document_id)
        if document.verification_id != verification_id:
            raise NotFound("document")
        return document_response(document)


class OrganisationsView(APIView):
    @extend_schema(responses=StaffOrganisationOut(many=True), parameters=[OpenApiParameter("q", str)])
    def get(self, request: Request) -> Response:
        organisations = selectors.organisations_for_staff(user=_staff(request), query=request.query_params.get("q", ""))
        return Response(
            [
                {
                    "slug": organisation.slug,
                    "display_name": organisation.display_name,
                    "legal_name": organisation.legal_name,
                    "country": organisation.country,
                    "state": selectors.organisation_state(organisation),
                    "verified_at": organisation.verified_at,
                    "created_at": organisation.created_at,
                    "name_history": [
                        {"old_name": change.old_name, "new_name": change.new_name, "changed_at": change.changed_at}
                        for change in organisation.name_changes.all()
                    ],
                }
                for organisation in organisations
            ]
        )


def _person_out(row: selectors.PersonRow) -> dict[str, Any]:
    return {
        "id": row.user.pk,
        "username": row.user.username,
        "pseudonym": row.user.pseudonym,
        "roles": row.roles,
        "suspended": row.suspended,
        "suspension_reason": row.suspension_reason,
    }


class PeopleView(APIView):
    @extend_schema(responses=StaffPersonOut(many=True), parameters=[OpenApiParameter("q", str)])
    def get(self, request: Request) -> Response:
        rows = selectors.people_for_staff(user=_staff(request), query=request.query_params.get("q", ""))
        return Response([_person_out(row) for row in rows])


class SuspendView(APIView):
    @extend_schema(request=SuspendIn, responses=StaffPersonOut)
    def post(self, request: Request, person_id: int) -> Response:
        user = _staff(request)
        account_selectors.require_staff_role(user=user, role=StaffRole.MODERATOR, doing="suspend accounts")
        person = selectors.person_for_staff(user=user, person_id=person_id)
        data = SuspendIn(data=request.data)
        data.is_valid(raise_exception=True)
        person = dispute_services.user_suspend(
            user=person, actor=user, code=data.validated_data["code"], reason=data.validated_data["reason"]
        )
        return Response(_person_out(selectors.person_row(person)))


class LiftView(APIView):
    @extend_schema(request=StaffReasonIn, responses=StaffPersonOut)
    def post(self, request: Request, person_id: int) -> Response:
        user = _staff(request)
        account_selectors.require_staff_role(user=user, role=StaffRole.MODERATOR, doing="lift suspensions")
        person = selectors.person_for_staff(user=user, person_id=person_id)
        data = StaffReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        person = dispute_services.user_suspension_lift(user=person, actor=user, reason=data.validated_data["reason"])
        return Response(_person_out(selectors.person_row(person)))


class AuditView(APIView):
    @extend_schema(
        responses=AuditRowOut(many=True),
        parameters=[OpenApiParameter(name, str) for name in ("action", "actor", "target_type", "target_id")],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.audit_search(
            user=_staff(request),
            action=params.get("action", ""),
            actor=params.get("actor", ""),
            target_type=params.get("target_type", ""),
            target_id=params.get("target_id", ""),
        )
        return Response([row.__dict__ for row in rows])


class ReasonsView(APIView):
    """The published lists of reasons staff may give (public)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ReasonListsOut)
    def get(self, request: Request) -> Response:
        return Response({"verification_refusal": VERIFICATION_REFUSAL_REASONS, "suspension": SUSPENSION_REASONS})


class RoleHoldersView(APIView):
    """Who holds which staff role since when, and who held one (public)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=RoleHolderOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "username": appointment.user.username,
                    "role": appointment.role,
                    "since": appointment.granted_at,
                    "until": appointment.ended_at,
                    "appointed_by": appointment.source,
                    "proposal": appointment.granted_by_proposal_id,
                }
                for appointment in selectors.role_holders_public()
            ]
        )


urlpatterns = [
    path("staff/me/", StaffMeView.as_view(), name="api-staff-me"),
    path("staff/verifications/", VerificationQueueView.as_view(), name="api-staff-verifications"),
    path("staff/verifications/<int:verification_id>/", VerificationDetailView.as_view(), name="api-staff-verification"),
    path(
        "staff/verifications/<int:verification_id>/approve/",
        VerificationApproveView.as_view(),
        name="api-staff-verification-approve",
    ),
    path(
        "staff/verifications/<int:verification_id>/refuse/",
        VerificationRefuseView.as_view(),
        name="api-staff-verification-refuse",
    ),
    path(
        "staff/verifications/<int:verification_id>/ask/",
        VerificationAskView.as_view(),
        name="api-staff-verification-ask",
    ),
    path(
        "staff/verifications/<int:verification_id>/documents/<int:document_id>/",
        VerificationDocumentView.as_view(),
        name="api-staff-verification-document",
    ),
    path("staff/organisations/", OrganisationsView.as_view(), name="api-staff-organisations"),
    path("staff/people/", PeopleView.as_view(), name="api-staff-people"),
    path("staff/people/<int:person_id>/suspend/", SuspendView.as_view(), name="api-staff-suspend"),
    path("staff/people/<int:person_id>/lift/", LiftView.as_view(), name="api-staff-lift"),
    path("staff/audit/", AuditView.as_view(), name="api-staff-audit"),
    path("staff/reasons/", ReasonsView.as_view(), name="api-staff-reasons"),
    path("staff/roles/", RoleHoldersView.as_view(), name="api-staff-roles"),
]
