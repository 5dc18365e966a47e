"""The requester's verification: the organisation submits its legal identity, a verifier
approves it, refuses it with a published reason, or asks for more information.

submitted --approve--> verified (the organisation may publish)
submitted --refuse--> refused (a new request may follow)
submitted --ask--> more_information --resubmit--> submitted

Documents are PDF, PNG or JPEG, recognised by their first bytes (not their names), at
most ``VERIFICATION_DOCUMENT_MAX_BYTES`` each, stored in the private storage, and read
only by verifiers (``frontend.views.staff.verification_document`` sends them as
attachments). Every refusal of bad input happens before anything is written."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import hooks, selectors
from accounts.models import Organisation, OrganisationVerification, StaffRole, User, VerificationDocument
from accounts.reasons import REFUSAL_NOTICE_SENTENCES, VERIFICATION_REFUSAL_REASONS
from core.audit import audit_record
from core.errors import AppError, InvalidTransition, NotFound, PermissionDenied

State = OrganisationVerification.State

# (first bytes, content type, extension): the only kinds of document accepted.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
MAX_TEXT = 2_000

# The verified notice's explanation: stored as this msgid with the legal name, written in each
# reader's language when the notice is read (``notifications.render.SENTENCE_PARAMS``).
VERIFIED_SENTENCE = gettext_noop("The co-op verified %(detail)s. You can publish batches now.")


class UploadedDocument(Protocol):
    """What Django's ``UploadedFile`` offers and this module uses."""

    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class CheckedDocument:
    name: str
    content: bytes
    content_type: str
    extension: str


def document_check(upload: UploadedDocument) -> CheckedDocument:
    """The document's bytes and real type; ``invalid_document`` if it is too large or not
    a PDF, PNG or JPEG by content (a renamed file is recognised as what it is)."""
    limit = settings.VERIFICATION_DOCUMENT_MAX_BYTES
    name = os.path.basename(upload.name or "document")[:200]
    content = upload.read(limit + 1)
    if len(content) > limit:
        message = f"{name} is larger than {limit / (1024 * 1024):.1f} MB; send a smaller scan."
        raise AppError("invalid_document", message, fields={"documents": [message]}, status=413)
    if not content:
        raise AppError(
            "invalid_document",
            _("%(name)s is empty.") % {"name": name},
            fields={"documents": [_("%(name)s: empty.") % {"name": name}]},
        )
    for signature, content_type, extension in _SIGNATURES:
        if content.startswith(signature):
            return CheckedDocument(name=name, content=content, content_type=content_type, extension=extension)
    message = f"{name} is not a PDF, PNG or JPEG file (judged by its content, not its name)."
    raise AppError("invalid_document", message, fields={"documents": [message]}, status=415)


def _clean_fields(
    *, legal_name: str, country: str, registration_number: str, address: str, responsible_person: str
) -> dict[str, str]:
    values = {
        "legal_name": legal_name.strip(),
        "country": country.strip().upper(),
        "registration_number": registration_number.strip(),
        "address": address.strip(),
        "responsible_person": responsible_person.strip(),
    }
    fields: dict[str, list[str]] = {}
    for name, value in values.items():
        if not value:
            fields[name] = [_("Required.")]
        elif len(value) > (MAX_TEXT if name == "address" else 200):
            fields[name] = [_("Too long.")]
    if values["country"] and (len(values["country"]) != 2 or not values["country"].isalpha()):
        fields["country"] = [_("Use a two-letter code, e.g. DE or US.")]
    if fields:
        raise AppError("invalid", _("Some fields of the verification need attention."), fields=fields)
    return values


def verification_submit(
    *,
    organisation: Organisation,
    actor: User,
    legal_name: str,
    country: str,
    registration_number: str,
    address: str,
    responsible_person: str,
    documents: Sequence[UploadedDocument] = (),
) -> OrganisationVerification:
    """The organisation's owner submits its legal identity (or answers a request for more
    information: the same request is updated and goes back to the queue).

    Raises ``permission_denied`` (not an owner), ``invalid`` / ``invalid_document``,
    ``already_verified`` and ``verification_pending`` (409); nothing is written then."""
    selectors.require_organisation_capability(user=actor, organisation=organisation, capability="manage")
    values = _clean_fields(
        legal_name=legal_name,
        country=country,
        registration_number=registration_number,
        address=address,
        responsible_person=responsible_person,
    )
    if len(documents) > settings.VERIFICATION_DOCUMENTS_MAX:
        raise AppError(
            "invalid_document",
            _("Send at most %(VERIFICATION_DOCUMENTS_MAX)s documents.")
            % {"VERIFICATION_DOCUMENTS_MAX": settings.VERIFICATION_DOCUMENTS_MAX},
            fields={"documents": [_("Too many.")]},
        )
    checked = [document_check(upload) for upload in documents]
    now = timezone.now()
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.is_verified:
            raise AppError("already_verified", _("This organisation is verified already."), status=409)
        pending = (
            OrganisationVerification.objects.select_for_update()
            .filter(organisation=organisation, state__in=[State.SUBMITTED, State.MORE_INFORMATION])
            .first()
        )
        if pending is not None and pending.state == State.SUBMITTED:
            raise AppError(
                "verification_pending",
                _("A verification request of this organisation is already waiting for a verifier."),
                status=409,
            )
        if pending is None:
            try:
                with transaction.atomic():
                    verification = OrganisationVerification.objects.create(
                        organisation=organisation, submitted_by=actor, submitted_at=now, **values
                    )
            except IntegrityError:
                raise AppError(
                    "verification_pending",
                    _("A verification request of this organisation is already waiting."),
                    status=409,
                ) from None
            action = "verification.submitted"
        else:
            verification = pending
            for name, value in values.items():
                setattr(verification, name, value)
            verification.state = State.SUBMITTED
            verification.submitted_by = actor
            verification.submitted_at = now
            verification.save(update_fields=[*values, "state", "submitted_by", "submitted_at"])
            action = "verification.resubmitted"
        for document in checked:
            stored = VerificationDocument(
                verification=verification,
                original_name=document.name,
                content_type=document.content_type,
                size=len(document.content),
            )
            # The stored name is random-ish (Django's storage adds a suffix on clashes) and
            # carries the extension of the real type, never the uploaded one.
            stored.file.save(f"org{organisation.pk}{document.extension}", ContentFile(document.content), save=False)
            stored.save()
        audit_record(
            actor=actor,
            action=action,
            target=verification,
            after={**values, "organisation": organisation.slug, "documents": [d.name for d in checked]},
        )
    return verification


def _decide(verification: OrganisationVerification, actor: User, doing: str) -> OrganisationVerification:
    selectors.require_staff_role(user=actor, role=StaffRole.VERIFIER, doing=doing)
    locked = OrganisationVerification.objects.select_for_update().select_related("organisation").get(pk=verification.pk)
    if locked.state != State.SUBMITTED:
        raise InvalidTransition("verification request", locked.state, doing.split(" ")[0] + "d")
    if selectors.organisation_role(user=actor, organisation=locked.organisation) is not None:
        raise PermissionDenied(_("A verifier does not decide on an organisation they work for."))
    return locked


def _require_reason(text: str, field: str, message: str) -> str:
    text = text.strip()
    if not text:
        raise AppError("reason_required", message, fields={field: [message]})
    if len(text) > MAX_TEXT:
        raise AppError(
            "invalid", _("At most %(MAX_TEXT)s characters.") % {"MAX_TEXT": MAX_TEXT}, fields={field: [_("Too long.")]}
        )
    return text


def verification_approve(
    *, verification: OrganisationVerification, actor: User, reason: str
) -> OrganisationVerification:
    """A verifier confirms the identity: the organisation takes the verified legal name and
    country and may publish. Raises ``permission_denied``, ``reason_required``,
    ``invalid_state`` (409); nothing changes then."""
    reason = _require_reason(reason, "reason", "Say what you checked (the audit log keeps it).")
    with transaction.atomic():
        verification = _decide(verification, actor, "approve verification requests")
        organisation = Organisation.objects.select_for_update().get(pk=verification.organisation_id)
        before = {"legal_name": organisation.legal_name, "country": organisation.country, "verified_at": None}
        verification.state = State.VERIFIED
        verification.decided_by = actor
        verification.decided_at = timezone.now()
        verification.decision_text = reason
        verification.save(update_fields=["state", "decided_by", "decided_at", "decision_text"])
        organisation.legal_name = verification.legal_name
        organisation.country = verification.country
        organisation.verified_at = verification.decided_at
        organisation.verified_by = actor
        organisation.save(update_fields=["legal_name", "country", "verified_at", "verified_by"])
        audit_record(actor=actor, action="verification.approved", target=verification, after={"reason": reason})
        audit_record(
            actor=actor,
            action="organisation.verified",
            target=organisation,
            before=before,
            after={"legal_name": organisation.legal_name, "verified_at": organisation.verified_at.isoformat()},
        )
        hooks.verification_decided(
            organisation=organisation,
            decision="verified",
            reason=VERIFIED_SENTENCE % {"detail": organisation.legal_name},
            sentence=VERIFIED_SENTENCE,
            detail=organisation.legal_name,
        )
    return verification


def verification_refuse(
    *, verification: OrganisationVerification, actor: User, code: str, text: str
) -> OrganisationVerification:
    """A verifier refuses with a reason from ``VERIFICATION_REFUSAL_REASONS`` and an
    explanation. Raises ``reason_required`` (no or unknown code, no text), ``permission_denied``,
    ``invalid_state``; nothing changes then."""
    if code not in VERIFICATION_REFUSAL_REASONS:
        raise AppError(
            "reason_required",
            _("Choose a refusal reason from the published list."),
            fields={
                "code": [
                    _("One of: %(VERIFICATION_REFUSAL_REASONS)s.")
                    % {"VERIFICATION_REFUSAL_REASONS": ", ".join(VERIFICATION_REFUSAL_REASONS)}
                ]
            },
        )
    text = _require_reason(text, "text", "Explain the refusal to the requester.")
    with transaction.atomic():
        verification = _decide(verification, actor, "refuse verification requests")
        verification.state = State.REFUSED
        verification.decided_by = actor
        verification.decided_at = timezone.now()
        verification.refusal_code = code
        verification.decision_text = text
        verification.save(update_fields=["state", "decided_by", "decided_at", "refusal_code", "decision_text"])
        audit_record(
            actor=actor, action="verification.refused", target=verification, after={"code": code, "text": text}
        )
        hooks.verification_decided(
            organisation=verification.organisation,
            decision="refused",
            reason=REFUSAL_NOTICE_SENTENCES[code] % {"detail": text},
            sentence=REFUSAL_NOTICE_SENTENCES[code],
            detail=text,
        )
    return verification


def verification_request_information(
    *, verification: OrganisationVerification, actor: User, text: str
) -> OrganisationVerification:
    """A verifier asks the requester for more; the requester's next submission updates
    this request. Raises ``reason_required``, ``permission_denied``, ``invalid_state``."""
    text = _require_reason(text, "text", "Say what information is missing.")
    with transaction.atomic():
        verification = _decide(verification, actor, "ask for more information")
        verification.state = State.MORE_INFORMATION
        verification.decided_by = actor
        verification.decided_at = timezone.now()
        verification.decision_text = text
        verification.save(update_fields=["state", "decided_by", "decided_at", "decision_text"])
        audit_record(
            actor=actor, action="verification.information_requested", target=verification, after={"text": text}
        )
        hooks.verification_decided(
            organisation=verification.organisation, decision="more information needed", reason=text
        )
    return verification


def verification_document_for_verifier(*, user: User, document_id: int) -> VerificationDocument:
    """A document, for a verifier only (``permission_denied`` otherwise, ``not_found``)."""
    selectors.require_staff_role(user=user, role=StaffRole.VERIFIER, doing="read verification documents")
    document = VerificationDocument.objects.select_related("verification").filter(pk=document_id).first()
    if document is None:
        raise NotFound("document")
    return document
