"""REST endpoints for identities: registration, profile, membership, organisations, keys."""

from typing import Any, cast

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import personal_data, reauthentication, selectors, services, signin, teams, two_factor, verification
from accounts.authentication import OrganisationPrincipal
from accounts.models import ApiKey, Organisation, OrganisationVerification, User, WorkerProfile
from accounts.reasons import VERIFICATION_REFUSAL_REASONS
from core.api import StrictSerializer
from core.errors import AppError, NotFound, PermissionDenied


def request_user(request: Request) -> User:
    """The signed-in person of an authenticated API request (views require authentication).
    An organisation's API key is never a person: it gets 403 ``organisation_key_refused``
    (the permission class refuses it first on personal endpoints; this is the backstop)."""
    if isinstance(request.user, OrganisationPrincipal):
        raise AppError("organisation_key_refused", _("An organisation's API key cannot act as a person."), status=403)
    return cast(User, request.user)


def request_actor(request: Request) -> User:
    """Whom an organisation endpoint's audit rows name: the signed-in person, or for an
    API key the key's accountable creator (still on the organisation's staff). Only for
    acting on the organisation's behalf; personal endpoints use ``request_user``."""
    if isinstance(request.user, OrganisationPrincipal):
        return request.user.accountable_person
    return cast(User, request.user)


def organisation_for_request(request: Request, slug: str, capability: str | None = None) -> Organisation:
    """The organisation in the URL, if the caller is its staff and, for an API key,
    the key belongs to it. The one way in to an organisation for the API.

    With ``capability`` (``manage``, ``publish``, ``review``, ``funds``) the caller must
    also hold it: a person through their team role, a key through its scopes
    (``selectors.require_organisation_capability``; 403 with what is missing)."""
    organisation = selectors.access_organisation(user=request_actor(request), slug=slug)
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None and key.organisation_id != organisation.pk:
        raise NotFound("organisation")
    if capability is not None:
        selectors.require_organisation_capability(
            user=request_actor(request), organisation=organisation, capability=capability, api_key=key
        )
    return organisation


class RegisterIn(StrictSerializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True)


class UserOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    pseudonym = serializers.CharField()
    is_member = serializers.BooleanField()
    is_treasurer = serializers.BooleanField()
    organisations = serializers.ListField(child=serializers.CharField())
    suspended = serializers.BooleanField()
    suspension_reason = serializers.CharField()
    staff_roles = serializers.ListField(child=serializers.CharField())


def _user_out(user: Any) -> dict[str, Any]:
    roles = selectors.user_roles(user=user)
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "pseudonym": user.pseudonym,
        "is_member": roles.is_member,
        "is_treasurer": roles.is_treasurer,
        "organisations": [organisation.slug for organisation in roles.organisations],
        "suspended": user.is_suspended,
        "suspension_reason": user.suspension_reason,
        "staff_roles": [
            role
            for role, held in (
                ("moderator", roles.is_moderator),
                ("treasurer", roles.is_treasurer),
                ("verifier", roles.is_verifier),
            )
            if held
        ],
    }


class RegisterView(APIView):
    throttle_scope = "credentials"
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=RegisterIn, responses={201: UserOut})
    def post(self, request: Request) -> Response:
        data = RegisterIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(_user_out(user), status=201)


class TokenIn(StrictSerializer):
    username = serializers.CharField()
    password = serializers.CharField(write_only=True)
    otp = serializers.CharField(required=False, allow_blank=True, help_text="With two-factor authentication.")


class TokenOut(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """Exchange a user name and password (and, with two-factor authentication, a code as
    ``otp``) for an API token (``Authorization: Token ...``). Limited per address and per
    account name (``accounts.signin``), with the same answers for unknown names."""

    # DRF's ObtainAuthToken turns throttling off; guessing passwords here must be limited.
    throttle_classes = APIView.throttle_classes
    throttle_scope = "credentials"

    @extend_schema(request=TokenIn, responses={200: TokenOut})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        if signin.signin_locked(username=username):
            raise AppError("account_locked", signin.locked_message(), status=429)
        user = authenticate(request._request, username=username, password=data.validated_data["password"])
        if user is None or not user.is_active:
            locked = signin.signin_failed(username=username)
            if locked:
                raise AppError("account_locked", signin.locked_message(), status=429)
            raise AppError("invalid_credentials", _("Unable to sign in with those credentials."), status=400)
        if two_factor.two_factor_enabled(user):
            otp = data.validated_data.get("otp", "")
            if not otp:
                raise AppError(
                    "otp_required",
                    _("This account uses two-factor authentication: send the code as 'otp'."),
                    status=400,
                )
            if two_factor.two_factor_verify(user=user, token=otp) is None:
                if signin.signin_failed(username=username):
                    raise AppError("account_locked", signin.locked_message(), status=429)
                raise AppError("invalid_credentials", _("Unable to sign in with those credentials."), status=400)
        signin.signin_succeeded(username=username)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    @extend_schema(responses=UserOut)
    def get(self, request: Request) -> Response:
        return Response(_user_out(request.user))


class ProfileSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = WorkerProfile
        fields = ["country", "languages", "demographics", "updated_at"]
        read_only_fields = ["updated_at"]


class ProfileIn(StrictSerializer):
    country = serializers.CharField(max_length=2, allow_blank=True, required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=12), required=False)
    demographics = serializers.DictField(required=False)


class ProfileChangeOut(serializers.Serializer):  # type: ignore[type-arg]
    field = serializers.CharField()
    old_value = serializers.JSONField()
    new_value = serializers.JSONField()
    changed_at = serializers.DateTimeField()


class ProfileView(APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        profile, _created = WorkerProfile.objects.get_or_create(user=request_user(request))
        return Response(ProfileSerializer(profile).data)

    @extend_schema(request=ProfileIn, responses=ProfileSerializer)
    def patch(self, request: Request) -> Response:
        data = ProfileIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = services.worker_profile_update(user=request_user(request), changes=dict(data.validated_data))
        return Response(ProfileSerializer(profile).data)


class ProfileHistoryView(APIView):
    @extend_schema(responses=ProfileChangeOut(many=True))
    def get(self, request: Request) -> Response:
        profile, _created = WorkerProfile.objects.get_or_create(user=request_user(request))
        changes = profile.changes.order_by("changed_at", "id")
        return Response(ProfileChangeOut(changes, many=True).data)


class MembershipIn(StrictSerializer):
    member_class = serializers.ChoiceField(choices=["worker", "supporter"], required=False)
    juror_opt_in = serializers.BooleanField(required=False)


class MembershipOut(serializers.Serializer):  # type: ignore[type-arg]
    member_class = serializers.CharField()
    status = serializers.CharField()
    joined_at = serializers.DateTimeField()
    juror_opt_in = serializers.BooleanField()


class MembershipView(APIView):
    @extend_schema(request=MembershipIn, responses={201: MembershipOut})
    def post(self, request: Request) -> Response:
        data = MembershipIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_join(
            user=request_user(request),
            member_class=data.validated_data.get("member_class", "worker"),
        )
        if "juror_opt_in" in data.validated_data:
            membership = services.membership_set_juror_opt_in(
                user=request_user(request),
                opt_in=data.validated_data["juror_opt_in"],  # type: ignore[arg-type]
            )
        return Response(MembershipOut(membership).data, status=201)


class OrganisationOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    verified = serializers.BooleanField(source="is_verified")

    class Meta:
        model = Organisation
        fields = [
            "slug", "legal_name", "display_name", "country", "contact_email", "verified", "created_at",
            "default_purpose", "default_data_use", "default_location_reason",
        ]  # fmt: skip


class OrganisationIn(StrictSerializer):
    legal_name = serializers.CharField(max_length=200)
    display_name = serializers.CharField(max_length=120)
    country = serializers.CharField(max_length=2)
    contact_email = serializers.EmailField()
    slug = serializers.SlugField(max_length=60, required=False)


class OrganisationUpdateIn(StrictSerializer):
    display_name = serializers.CharField(max_length=120, required=False)
    default_purpose = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Used where a batch states no purpose."
    )
    default_data_use = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Used where a batch states no data use."
    )
    default_location_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Used where a batch limits workers by country without a reason.",
    )


class NameChangeOut(serializers.Serializer):  # type: ignore[type-arg]
    old_name = serializers.CharField()
    new_name = serializers.CharField()
    changed_at = serializers.DateTimeField()


class OrganisationListView(APIView):
    accepts_organisation_keys = frozenset({"GET"})  # a key sees its own organisation

    @extend_schema(responses=OrganisationOut(many=True))
    def get(self, request: Request) -> Response:
        organisations = selectors.organisations_for_user(user=request_actor(request))
        if isinstance(request.auth, ApiKey):
            organisations = organisations.filter(pk=request.auth.organisation_id)
        return Response(OrganisationOut(organisations, many=True).data)

    @extend_schema(request=OrganisationIn, responses={201: OrganisationOut})
    def post(self, request: Request) -> Response:
        data = OrganisationIn(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = services.organisation_create(owner=request_user(request), **data.validated_data)
        return Response(OrganisationOut(organisation).data, status=201)


class OrganisationDetailView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses=OrganisationOut)
    def get(self, request: Request, slug: str) -> Response:
        return Response(OrganisationOut(organisation_for_request(request, slug)).data)

    @extend_schema(request=OrganisationUpdateIn, responses=OrganisationOut)
    def patch(self, request: Request, slug: str) -> Response:
        """Rename (the ``manage`` capability: owners) and/or set the defaults for purpose,
        data use and location reason (``publish``: whoever prepares batches, or a key with
        that scope). Both are checked before anything changes."""
        # Who may touch the organisation at all is checked before the input is read, so a
        # stranger learns nothing from a validation error; the capability the change needs
        # is checked once the input says what it is.
        organisation_for_request(request, slug)
        data = OrganisationUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        new_name = values.pop("display_name", None)
        if new_name is None and not values:
            raise AppError("invalid", _("Send display_name or a default_* field to change."))
        organisation = organisation_for_request(request, slug, "manage" if new_name is not None else "publish")
        if new_name is not None and values:
            selectors.require_organisation_capability(
                user=request_actor(request),
                organisation=organisation,
                capability="publish",
                api_key=request.auth if isinstance(request.auth, ApiKey) else None,
            )
        with transaction.atomic():
            if values:
                organisation = services.organisation_defaults_set(
                    organisation=organisation, actor=request_actor(request), changes=values
                )
            if new_name is not None:
                organisation = services.organisation_rename(
                    organisation=organisation, new_name=new_name, actor=request_actor(request)
                )
        return Response(OrganisationOut(organisation).data)


class RequesterPublicOut(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    display_name = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    verified_at = serializers.DateTimeField()
    name_history = NameChangeOut(many=True)


class RequesterPublicView(APIView):
    """Any signed-in person can see who a requester is and every name it has had."""

    @extend_schema(responses=RequesterPublicOut)
    def get(self, request: Request, slug: str) -> Response:
        organisation = selectors.organisation_public(slug=slug)
        history = selectors.organisation_name_history(organisation=organisation)
        return Response(
            RequesterPublicOut(
                {
                    "slug": organisation.slug,
                    "display_name": organisation.display_name,
                    "legal_name": organisation.legal_name,
                    "country": organisation.country,
                    "verified_at": organisation.verified_at,
                    "name_history": list(history),
                }
            ).data
        )


class ApiKeyOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = ApiKey
        fields = ["id", "label", "access_key_id", "scopes", "created_at", "revoked_at", "last_used_at", "active"]


class ApiKeyCreatedOut(ApiKeyOut):
    secret_access_key = serializers.CharField()

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "secret_access_key"]


class ApiKeyIn(StrictSerializer):
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)  # type: ignore[assignment]
    scopes = serializers.ListField(child=serializers.CharField(max_length=20), required=False)


class ApiKeyListView(APIView):
    throttle_scope = "credentials"

    @extend_schema(responses=ApiKeyOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(ApiKeyOut(selectors.api_keys_for_organisation(organisation=organisation), many=True).data)

    @extend_schema(request=ApiKeyIn, responses={201: ApiKeyCreatedOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "manage")
        data = ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.api_key_create(
            organisation=organisation,
            created_by=request_user(request),
            label=data.validated_data.get("label", ""),  # type: ignore[arg-type]
            scopes=data.validated_data.get("scopes"),  # type: ignore[arg-type]
        )
        body = dict(ApiKeyOut(created.key).data)
        body["secret_access_key"] = created.secret
        return Response(body, status=201)


class ApiKeyRevokeView(APIView):
    @extend_schema(request=None, responses=ApiKeyOut)
    def post(self, request: Request, slug: str, key_id: int) -> Response:
        organisation = organisation_for_request(request, slug, "manage")
        key = selectors.api_keys_for_organisation(organisation=organisation).filter(pk=key_id).first()
        if key is None:
            raise NotFound("API key")
        key = services.api_key_revoke(key=key, actor=request_user(request))
        return Response(ApiKeyOut(key).data)


# --- Verification and team ----------------------------------------------------------------------


class VerificationOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    state = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    registration_number = serializers.CharField()
    address = serializers.CharField()
    responsible_person = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    refusal_code = serializers.CharField()
    refusal_reason = serializers.SerializerMethodField()
    decision_text = serializers.CharField()
    documents = serializers.SerializerMethodField()

    def get_refusal_reason(self, verification: OrganisationVerification) -> str:
        return str(VERIFICATION_REFUSAL_REASONS.get(verification.refusal_code, ""))

    def get_documents(self, verification: OrganisationVerification) -> list[str]:
        # The requester sees which documents it sent, never a link: only verifiers read them.
        return [document.original_name for document in verification.documents.all()]


class VerificationIn(StrictSerializer):
    legal_name = serializers.CharField(max_length=200, allow_blank=True)
    country = serializers.CharField(max_length=2, allow_blank=True)
    registration_number = serializers.CharField(max_length=80, allow_blank=True)
    address = serializers.CharField(max_length=2000, allow_blank=True)
    responsible_person = serializers.CharField(max_length=200, allow_blank=True)
    documents = serializers.ListField(child=serializers.FileField(), required=False)


class VerificationStatusOut(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.CharField(help_text="verified, unsubmitted, or the latest request's state")
    request = VerificationOut(allow_null=True)


class VerificationView(APIView):
    """The organisation's verification state with its latest request (``null`` before the
    first), and submitting one (multipart, with ``documents``: PDF, PNG or JPEG)."""

    @extend_schema(responses=VerificationStatusOut)
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        latest = selectors.organisation_verification_latest(organisation=organisation)
        if organisation.is_verified:
            state = OrganisationVerification.State.VERIFIED.value
        else:
            state = latest.state if latest is not None else "unsubmitted"
        return Response({"state": state, "request": VerificationOut(latest).data if latest else None})

    @extend_schema(request={"multipart/form-data": VerificationIn}, responses={201: VerificationOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "manage")
        data = request.data

        def text(name: str) -> str:
            value = data.get(name, "")
            return value if isinstance(value, str) else ""

        submitted = verification.verification_submit(
            organisation=organisation,
            actor=request_user(request),
            legal_name=text("legal_name"),
            country=text("country"),
            registration_number=text("registration_number"),
            address=text("address"),
            responsible_person=text("responsible_person"),
            documents=request.FILES.getlist("documents"),
        )
        return Response(VerificationOut(submitted).data, status=201)


class MemberOut(serializers.Serializer):  # type: ignore[type-arg]
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    added_at = serializers.DateTimeField()


# Roles are checked by the team services (owner, reviewer, finance); plain text here keeps
# the schema free of a second "role" enum.
class InviteIn(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.CharField(max_length=10, help_text="owner, reviewer or finance")


class MemberRoleIn(StrictSerializer):
    role = serializers.CharField(max_length=10, help_text="owner, reviewer or finance")


class InvitationOut(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


class MembersView(APIView):
    """The team (anyone on it reads it); an owner invites by e-mail (the link is mailed)."""

    @extend_schema(responses=MemberOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug)
        return Response(MemberOut(selectors.organisation_members(organisation=organisation), many=True).data)

    @extend_schema(request=InviteIn, responses={201: InvitationOut})
    def post(self, request: Request, slug: str) -> Response:
        organisation = organisation_for_request(request, slug, "manage")
        data = InviteIn(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = teams.invitation_create(
            organisation=organisation,
            actor=request_user(request),
            email=data.validated_data["email"],
            role=data.validated_data["role"],
        )
        return Response(
            {
                "id": invitation.pk,
                "email": invitation.email,
                "role": invitation.role,
                "expires_at": invitation.expires_at,
            },
            status=201,
        )


class MemberView(APIView):
    """An owner changes a member's role or removes them (never the last owner)."""

    def _member(self, request: Request, slug: str, user_id: int) -> tuple[Organisation, User]:
        organisation = organisation_for_request(request, slug, "manage")
        member = selectors.organisation_members(organisation=organisation).filter(user_id=user_id).first()
        if member is None:
            raise NotFound("member")
        return organisation, member.user

    @extend_schema(request=MemberRoleIn, responses=MemberOut)
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        organisation, person = self._member(request, slug, user_id)
        data = MemberRoleIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = teams.member_set_role(
            organisation=organisation, actor=request_user(request), user=person, role=data.validated_data["role"]
        )
        return Response(MemberOut(member).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, user_id: int) -> Response:
        organisation, person = self._member(request, slug, user_id)
        teams.member_remove(organisation=organisation, actor=request_user(request), user=person)
        return Response(status=204)


class InvitationAcceptIn(StrictSerializer):
    token = serializers.CharField(max_length=100)


class InvitationAcceptView(APIView):
    """The signed-in invited person joins the team (a personal sign-in, never a key)."""

    @extend_schema(request=InvitationAcceptIn, responses={201: MemberOut})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            raise PermissionDenied(_("Accept an invitation signed in as yourself, not with an organisation key."))
        data = InvitationAcceptIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = teams.invitation_accept(token=data.validated_data["token"], user=request_user(request))
        return Response(MemberOut(member).data, status=201)


class CodeIn(StrictSerializer):
    otp = serializers.CharField(max_length=20)


class TwoFactorOut(serializers.Serializer):  # type: ignore[type-arg]
    enabled = serializers.BooleanField()
    required = serializers.BooleanField(help_text="Your role requires it.")  # type: ignore[assignment]


class EnrolmentOut(serializers.Serializer):  # type: ignore[type-arg]
    secret = serializers.CharField()
    otpauth_url = serializers.CharField()
    qr_svg = serializers.CharField()


class BackupCodesOut(serializers.Serializer):  # type: ignore[type-arg]
    backup_codes = serializers.ListField(child=serializers.CharField())


class TwoFactorView(APIView):
    """Whether two-factor authentication is on, and whether the person's role requires it."""

    @extend_schema(responses=TwoFactorOut)
    def get(self, request: Request) -> Response:
        user = request_user(request)
        return Response(
            {"enabled": two_factor.two_factor_enabled(user), "required": two_factor.second_factor_required(user)}
        )


class TwoFactorEnrolView(APIView):
    """Step 1: a fresh secret for the authenticator app (text, otpauth URL, QR as SVG)."""

    @extend_schema(request=None, responses={201: EnrolmentOut})
    def post(self, request: Request) -> Response:
        enrolment = two_factor.two_factor_enrol_start(user=request_user(request))
        return Response(
            {"secret": enrolment.secret, "otpauth_url": enrolment.otpauth_url, "qr_svg": enrolment.qr_svg}, status=201
        )


class TwoFactorConfirmView(APIView):
    """Step 2: a code from the app turns it on; answers the backup codes, once. Every API
    token of the person is deleted: get a new one with the code."""

    @extend_schema(request=CodeIn, responses=BackupCodesOut)
    def post(self, request: Request) -> Response:
        data = CodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        codes = two_factor.two_factor_enrol_confirm(user=request_user(request), token=data.validated_data["otp"])
        return Response({"backup_codes": codes})


class TwoFactorBackupCodesView(APIView):
    @extend_schema(request=CodeIn, responses=BackupCodesOut)
    def post(self, request: Request) -> Response:
        data = CodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        codes = two_factor.two_factor_backup_codes_renew(user=request_user(request), token=data.validated_data["otp"])
        return Response({"backup_codes": codes})


class TwoFactorDisableView(APIView):
    @extend_schema(request=CodeIn, responses=TwoFactorOut)
    def post(self, request: Request) -> Response:
        data = CodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        two_factor.two_factor_disable(user=user, token=data.validated_data["otp"])
        return Response({"enabled": False, "required": two_factor.second_factor_required(user)})


class PersonalDataView(APIView):
    """Everything the platform holds about you: a zip of JSON files."""

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        content = personal_data.personal_data_export(user=request_user(request))
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
        return response


class ErasureIn(StrictSerializer):
    password = serializers.CharField(write_only=True)
    otp = serializers.CharField(required=False, allow_blank=True, default="")


class ErasureOut(serializers.Serializer):  # type: ignore[type-arg]
    can_erase = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class ErasureView(APIView):
    """GET: whether your account can be erased now, and why not. POST (password, and code
    with two-factor authentication): pseudonymise you everywhere and close the account."""

    @extend_schema(responses=ErasureOut)
    def get(self, request: Request) -> Response:
        reasons = personal_data.erasure_blockers(user=request_user(request))
        return Response({"can_erase": not reasons, "reasons": reasons})

    @extend_schema(request=ErasureIn, responses={200: ErasureOut})
    def post(self, request: Request) -> Response:
        data = ErasureIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        proof = reauthentication.fresh_sign_in_with_password(
            user=user, password=data.validated_data["password"], otp=data.validated_data["otp"]
        )
        personal_data.personal_data_erase(user=user, fresh_sign_in=proof)
        return Response({"can_erase": False, "reasons": ["Erased."]})


urlpatterns = [
    path("me/two-factor/", TwoFactorView.as_view(), name="api-two-factor"),
    path("me/two-factor/enrol/", TwoFactorEnrolView.as_view(), name="api-two-factor-enrol"),
    path("me/two-factor/confirm/", TwoFactorConfirmView.as_view(), name="api-two-factor-confirm"),
    path("me/two-factor/backup-codes/", TwoFactorBackupCodesView.as_view(), name="api-two-factor-backup-codes"),
    path("me/two-factor/disable/", TwoFactorDisableView.as_view(), name="api-two-factor-disable"),
    path("me/data/", PersonalDataView.as_view(), name="api-personal-data"),
    path("me/erasure/", ErasureView.as_view(), name="api-erasure"),
    path("auth/register/", RegisterView.as_view(), name="api-register"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("profile/", ProfileView.as_view(), name="api-profile"),
    path("profile/history/", ProfileHistoryView.as_view(), name="api-profile-history"),
    path("membership/", MembershipView.as_view(), name="api-membership"),
    path("organisations/", OrganisationListView.as_view(), name="api-organisations"),
    path("organisations/<slug:slug>/", OrganisationDetailView.as_view(), name="api-organisation"),
    path("organisations/<slug:slug>/api-keys/", ApiKeyListView.as_view(), name="api-keys"),
    path("organisations/<slug:slug>/verification/", VerificationView.as_view(), name="api-org-verification"),
    path("organisations/<slug:slug>/members/", MembersView.as_view(), name="api-org-members"),
    path("organisations/<slug:slug>/members/<int:user_id>/", MemberView.as_view(), name="api-org-member"),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="api-invitation-accept"),
    path("organisations/<slug:slug>/api-keys/<int:key_id>/revoke/", ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("requesters/<slug:slug>/", RequesterPublicView.as_view(), name="api-requester"),
]
