"""Requester verification: submitting, the verifier's decisions, documents kept private and
served only to verifiers as downloads, and every kind of bad input refused with nothing changed."""

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import verification
from accounts.models import Organisation, OrganisationVerification, VerificationDocument
from accounts.reasons import VERIFICATION_REFUSAL_REASONS
from core.errors import AppError
from core.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DETAILS = {
    "legal_name": "Lab Research GmbH",
    "country": "de",
    "registration_number": "HRB 998877",
    "address": "Hauptstrasse 1\n10115 Berlin",
    "responsible_person": "Dr. Lena Lab",
}


@pytest.fixture
def organisation() -> Organisation:
    return OrganisationFactory(verified=False)


@pytest.fixture
def owner(organisation: Organisation) -> Any:
    return organisation.staff.get(role="owner").user


@pytest.fixture
def verifier() -> Any:
    return staff_member("verifier")


def submit(organisation: Organisation, owner: Any, *documents: SimpleUploadedFile) -> OrganisationVerification:
    return verification.verification_submit(
        organisation=organisation, actor=owner, documents=list(documents), **DETAILS
    )


def state_of_everything() -> tuple[int, int, int, list[str]]:
    return (
        OrganisationVerification.objects.count(),
        VerificationDocument.objects.count(),
        AuditEvent.objects.filter(action__startswith="verification.").count(),
        sorted(str(p.name) for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()),
    )


def test_a_submission_with_a_document_waits_in_the_queue(organisation, owner, verifier) -> None:
    submitted = submit(organisation, owner, SimpleUploadedFile("extract.pdf", PDF, content_type="text/html"))
    assert (submitted.state, submitted.country, submitted.legal_name) == ("submitted", "DE", "Lab Research GmbH")
    document = submitted.documents.get()
    # The type is the one its bytes say, not what the browser claimed.
    assert (document.original_name, document.content_type, document.size) == (
        "extract.pdf",
        "application/pdf",
        len(PDF),
    )
    stored = Path(document.file.path)
    assert stored.read_bytes() == PDF
    assert Path(settings.PRIVATE_MEDIA_ROOT) in stored.parents
    assert Path(settings.MEDIA_ROOT) not in stored.parents and Path(settings.STATIC_ROOT) not in stored.parents
    assert list(verification_queue(verifier)) == [submitted]
    assert AuditEvent.objects.filter(action="verification.submitted", target_id=str(submitted.pk)).count() == 1


def verification_queue(verifier: Any) -> Any:
    from accounts.selectors import verification_queue as queue

    return queue(user=verifier)


@pytest.mark.parametrize(
    ("upload", "code", "status"),
    [
        (SimpleUploadedFile("extract.pdf", b"<html><script>alert(1)</script></html>"), "invalid_document", 415),
        (SimpleUploadedFile("photo.jpg", b"GIF89a" + b"\x00" * 20), "invalid_document", 415),
        (SimpleUploadedFile("empty.pdf", b""), "invalid_document", 400),
    ],
)
def test_a_document_that_is_not_a_pdf_png_or_jpeg_is_refused(organisation, owner, upload, code, status) -> None:
    before = state_of_everything()
    with pytest.raises(AppError) as refused:
        submit(organisation, owner, SimpleUploadedFile("ok.png", PNG), upload)
    assert (refused.value.code, refused.value.status_code) == (code, status)
    assert state_of_everything() == before


def test_an_oversized_document_is_refused(organisation, owner, settings) -> None:
    settings.VERIFICATION_DOCUMENT_MAX_BYTES = 1000
    before = state_of_everything()
    with pytest.raises(AppError) as refused:
        submit(organisation, owner, SimpleUploadedFile("big.pdf", PDF + b"x" * 1000))
    assert (refused.value.code, refused.value.status_code) == ("invalid_document", 413)
    assert state_of_everything() == before


def test_missing_details_are_refused_field_by_field(organisation, owner) -> None:
    with pytest.raises(AppError) as refused:
        verification.verification_submit(
            organisation=organisation, actor=owner, **{**DETAILS, "registration_number": " ", "country": "Germany"}
        )
    assert refused.value.code == "invalid"
    assert sorted(refused.value.fields) == ["country", "registration_number"]
    assert OrganisationVerification.objects.count() == 0


def test_a_second_pending_request_is_refused(organisation, owner) -> None:
    submit(organisation, owner)
    before = state_of_everything()
    with pytest.raises(AppError) as refused:
        submit(organisation, owner, SimpleUploadedFile("more.pdf", PDF))
    assert (refused.value.code, refused.value.status_code) == ("verification_pending", 409)
    assert state_of_everything() == before


def test_only_an_owner_submits(organisation) -> None:
    reviewer = UserFactory()
    from accounts.services import organisation_staff_add

    organisation_staff_add(organisation=organisation, user=reviewer, role="reviewer", actor=reviewer)
    with pytest.raises(AppError) as refused:
        submit(organisation, reviewer)
    assert refused.value.code == "permission_denied"
    assert OrganisationVerification.objects.count() == 0


def test_approval_verifies_the_organisation_and_tells_the_requester(
    organisation, owner, verifier, django_capture_on_commit_callbacks
) -> None:
    submitted = submit(organisation, owner)
    mail.outbox.clear()
    with pytest.raises(AppError) as refused:
        verification.verification_approve(verification=submitted, actor=verifier, reason="  ")
    assert refused.value.code == "reason_required"
    with pytest.raises(AppError) as refused:
        verification.verification_approve(verification=submitted, actor=staff_member("treasurer"), reason="Looks fine.")
    assert refused.value.code == "permission_denied"
    organisation.refresh_from_db()
    assert not organisation.is_verified

    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_approve(verification=submitted, actor=verifier, reason="Register entry matches.")
    organisation.refresh_from_db()
    assert organisation.is_verified and organisation.verified_by == verifier
    assert (organisation.legal_name, organisation.country) == ("Lab Research GmbH", "DE")
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert AuditEvent.objects.filter(action="verification.approved", actor=verifier).count() == 1
    assert AuditEvent.objects.filter(action="organisation.verified", target_id=str(organisation.pk)).count() == 1
    with pytest.raises(AppError) as refused:
        verification.verification_approve(verification=submitted, actor=verifier, reason="Again.")
    assert refused.value.code == "invalid_state"


def test_a_refusal_needs_a_published_reason_and_words(organisation, owner, verifier) -> None:
    submitted = submit(organisation, owner)
    for code, text in (("", "No such company."), ("not_a_published_reason", "No."), ("registration_not_found", " ")):
        with pytest.raises(AppError) as refused:
            verification.verification_refuse(verification=submitted, actor=verifier, code=code, text=text)
        assert refused.value.code == "reason_required"
    submitted.refresh_from_db()
    assert submitted.state == OrganisationVerification.State.SUBMITTED and submitted.decided_by is None
    refused_request = verification.verification_refuse(
        verification=submitted, actor=verifier, code="registration_not_found", text="No entry under HRB 998877."
    )
    assert (refused_request.state, refused_request.refusal_code) == ("refused", "registration_not_found")
    organisation.refresh_from_db()
    assert not organisation.is_verified
    # The requester sees the reason on its page and may submit a corrected request.
    client = APIClient()
    client.force_authenticate(owner)
    status = client.get(f"/api/organisations/{organisation.slug}/verification/").json()
    assert status["state"] == "refused"
    shown = status["request"]
    assert shown["state"] == "refused"
    assert shown["refusal_reason"] == VERIFICATION_REFUSAL_REASONS["registration_not_found"]
    assert shown["decision_text"] == "No entry under HRB 998877."
    again = submit(organisation, owner)
    assert again.pk != submitted.pk and again.state == OrganisationVerification.State.SUBMITTED


def test_asking_for_more_information_reopens_the_same_request(organisation, owner, verifier) -> None:
    submitted = submit(organisation, owner)
    with pytest.raises(AppError):
        verification.verification_request_information(verification=submitted, actor=verifier, text="")
    asked = verification.verification_request_information(
        verification=submitted, actor=verifier, text="Send the register extract."
    )
    assert asked.state == OrganisationVerification.State.MORE_INFORMATION
    answered = submit(organisation, owner, SimpleUploadedFile("extract.pdf", PDF))
    assert (
        answered.pk == submitted.pk
        and answered.state == OrganisationVerification.State.SUBMITTED
        and answered.documents.count() == 1
    )


def test_a_verifier_does_not_decide_on_their_own_organisation(organisation, owner) -> None:
    verifier = staff_member("verifier")
    from accounts.services import organisation_staff_add

    organisation_staff_add(organisation=organisation, user=verifier, role="finance", actor=owner)
    submitted = submit(organisation, owner)
    with pytest.raises(AppError) as refused:
        verification.verification_approve(verification=submitted, actor=verifier, reason="Mine.")
    assert refused.value.code == "permission_denied"


def test_documents_download_only_for_verifiers_never_inline(organisation, owner, verifier, client) -> None:
    submitted = submit(organisation, owner, SimpleUploadedFile("scan.png", PNG))
    document = submitted.documents.get()
    url = f"/staff/verifications/{submitted.pk}/documents/{document.pk}/"
    api_url = f"/api/staff/verifications/{submitted.pk}/documents/{document.pk}/"
    for outsider in (owner, staff_member("treasurer"), staff_member("moderator"), UserFactory()):
        client.force_login(outsider)
        assert client.get(url).status_code == 403
        assert client.get(api_url).status_code == 403
    client.force_login(verifier)
    for address in (url, api_url):
        response = client.get(address)
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="scan.png"'
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content) == PNG
    # The requester's own view lists the name, never a link to the file.
    api = APIClient()
    api.force_authenticate(owner)
    status = api.get(f"/api/organisations/{organisation.slug}/verification/").json()
    assert status["request"]["documents"] == ["scan.png"]


def test_the_api_submits_multipart_with_documents(organisation, owner) -> None:
    api = APIClient()
    api.force_authenticate(owner)
    before = api.get(f"/api/organisations/{organisation.slug}/verification/").json()
    assert before == {"state": "unsubmitted", "request": None}
    response = api.post(
        f"/api/organisations/{organisation.slug}/verification/",
        {**DETAILS, "documents": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.png", PNG)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["documents"] == ["a.pdf", "b.png"]
    again = api.post(f"/api/organisations/{organisation.slug}/verification/", DETAILS, format="multipart")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "verification_pending")


def test_publishing_still_needs_a_verified_organisation(organisation, owner) -> None:
    from tasks import services as task_services
    from tests.tasks.factories import make_batch

    batch = make_batch(organisation)
    submit(organisation, owner)
    with pytest.raises(AppError) as refused:
        task_services.batch_publish(batch=batch, actor=owner)
    assert refused.value.code == "organisation_unverified"


def test_the_verified_notice_explains_itself_in_the_readers_language(organisation, owner, verifier) -> None:
    from notifications.models import Notification
    from notifications.render import words

    submitted = submit(organisation, owner)
    verification.verification_approve(verification=submitted, actor=verifier, reason="Register entry matches.")
    notice = Notification.objects.get(user=owner, category="verification")
    # The English stays stored for readers from before; the sentence and the name are kept apart.
    assert notice.params["reason"] == "The co-op verified Lab Research GmbH. You can publish batches now."
    assert notice.params["reason_detail"] == "Lab Research GmbH"
    french = words(category="verification", params=notice.params, language="fr")
    assert french.body == "La coopérative a vérifié Lab Research GmbH. Vous pouvez désormais publier des lots."
    assert "vérifié" in french.title and "verified" not in french.title


def test_the_refusal_notice_reads_in_the_readers_language_with_the_verifiers_words_as_typed(
    organisation, owner, verifier
) -> None:
    from notifications.models import Notification
    from notifications.render import words

    submitted = submit(organisation, owner)
    verification.verification_refuse(
        verification=submitted, actor=verifier, code="registration_not_found", text="No entry under HRB 998877."
    )
    notice = Notification.objects.get(user=owner, category="verification")
    assert notice.params["reason"] == (
        "The registration or tax number was not found in the public register. No entry under HRB 998877.\n"
        "You may submit a new request with corrected details."
    )
    spanish = words(category="verification", params=notice.params, language="es").body
    assert spanish == (
        "El número de registro o de identificación fiscal no aparece en el registro público. "
        "No entry under HRB 998877.\nPuedes enviar una nueva solicitud con los datos corregidos."
    )
