"""The requester's verification and team pages, and accepting a team invitation."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import teams, verification
from accounts.models import Organisation, OrganisationVerification, User
from accounts.reasons import VERIFICATION_REFUSAL_REASONS
from core.errors import AppError, NotFound
from frontend.forms import InviteForm, MemberRoleForm, VerificationForm
from frontend.pages import add_app_error, app_page, flash_error, form_errors_text, user_of


def _organisation(request: HttpRequest, slug: str) -> Organisation:
    return account_selectors.access_organisation(user=user_of(request), slug=slug)


def verification_state_text(latest: OrganisationVerification | None, organisation: Organisation) -> str:
    """The sentence the requester's dashboard and verification page show."""
    if organisation.is_verified:
        return _("Verified: you can publish batches.")
    if latest is None:
        return _("Not submitted: send your legal identity so the co-op can verify it before you publish.")
    if latest.state == OrganisationVerification.State.SUBMITTED:
        return _("Submitted: a verifier will check it.")
    if latest.state == OrganisationVerification.State.MORE_INFORMATION:
        return f"More information needed: {latest.decision_text}"
    return (
        "Refused: "
        + VERIFICATION_REFUSAL_REASONS.get(latest.refusal_code, "")
        + f" {latest.decision_text} You may submit a corrected request."
    )


@app_page
def verification_page(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    latest = account_selectors.organisation_verification_latest(organisation=organisation)
    initial = {
        "legal_name": organisation.legal_name,
        "country": organisation.country,
    }
    if latest is not None:
        initial.update(
            {
                name: getattr(latest, name)
                for name in ("legal_name", "country", "registration_number", "address", "responsible_person")
            }
        )
    form = VerificationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=organisation, capability="manage"
        )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.fields if name != "documents"}
        try:
            verification.verification_submit(
                organisation=organisation,
                actor=user_of(request),
                documents=form.cleaned_data["documents"],
                **values,
            )
        except AppError as error:
            add_app_error(form, error)
        else:
            messages.success(request, _("Sent. A verifier will check it; you will be told the outcome."))
            return redirect("org_verification", slug=slug)
    can_submit = not organisation.is_verified and (
        latest is None or latest.state != OrganisationVerification.State.SUBMITTED
    )
    return render(
        request,
        "frontend/requester/verification.html",
        {
            "organisation": organisation,
            "latest": latest,
            "state_text": verification_state_text(latest, organisation),
            "form": form,
            "can_submit": can_submit,
        },
        status=400 if request.method == "POST" else 200,
    )


@app_page
def team_page(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        account_selectors.require_organisation_capability(
            user=user_of(request), organisation=organisation, capability="manage"
        )
        if form.is_valid():
            try:
                invitation, _token = teams.invitation_create(
                    organisation=organisation,
                    actor=user_of(request),
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except AppError as error:
                add_app_error(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("org_team", slug=slug)
    role = account_selectors.organisation_role(user=user_of(request), organisation=organisation)
    return render(
        request,
        "frontend/requester/team.html",
        {
            "organisation": organisation,
            "members": account_selectors.organisation_members(organisation=organisation),
            "invitations": account_selectors.organisation_invitations_open(organisation=organisation),
            "form": form,
            "role_form": MemberRoleForm(),
            "is_owner": role == "owner",
        },
        status=400 if request.method == "POST" else 200,
    )


def _member(organisation: Organisation, user_id: int) -> User:
    member = account_selectors.organisation_members(organisation=organisation).filter(user_id=user_id).first()
    if member is None:
        raise NotFound("member")
    return member.user


@require_POST
@app_page
def team_member_action(request: HttpRequest, slug: str, user_id: int, action: str) -> HttpResponse:
    """``role`` (with the form's role) or ``remove``; an owner's action."""
    organisation = _organisation(request, slug)
    account_selectors.require_organisation_capability(
        user=user_of(request), organisation=organisation, capability="manage"
    )
    person = _member(organisation, user_id)
    try:
        if action == "remove":
            teams.member_remove(organisation=organisation, actor=user_of(request), user=person)
            messages.success(request, _("%(username)s is no longer on the team.") % {"username": person.username})
        elif action == "role":
            form = MemberRoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, form_errors_text(form))
                return redirect("org_team", slug=slug)
            teams.member_set_role(
                organisation=organisation, actor=user_of(request), user=person, role=form.cleaned_data["role"]
            )
            messages.success(
                request,
                _("%(username)s is now %(role)s.") % {"username": person.username, "role": form.cleaned_data["role"]},
            )
        else:
            raise NotFound("action")
    except AppError as error:
        if error.status_code in (403, 404):
            raise
        flash_error(request, error)
    return redirect("org_team", slug=slug)


@app_page
def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """Shows an invitation to the signed-in person and accepts it on POST."""
    invitation = teams.invitation_for_token(token=token)
    if request.method == "POST":
        try:
            teams.invitation_accept(token=token, user=user_of(request))
        except AppError as error:
            if error.status_code == 404:
                raise
            flash_error(request, error)
            return redirect("invitation", token=token)
        messages.success(
            request,
            _("You joined %(display_name)s as %(role)s.")
            % {"display_name": invitation.organisation.display_name, "role": invitation.role},
        )
        return redirect("org_dashboard", slug=invitation.organisation.slug)
    return render(request, "frontend/requester/invitation.html", {"invitation": invitation})
