"""What the pages refuse, and that a refusal changes nothing."""

import json

import pytest
from django.test import Client

from accounts.models import ApiKey
from governance.models import Proposal
from payments.models import Deposit
from tasks.models import Assignment, Batch, Task
from tests.factories import MemberFactory, OrganisationFactory, UserFactory
from tests.tasks.factories import TEMPLATE, make_batch, published_batch

pytestmark = pytest.mark.django_db

BATCH_FORM = {
    "title": "Label animals",
    "description": "Say whether the picture shows the animal named.",
    "purpose": "Training data.",
    "data_use": "An open model.",
    "reward": "0.50",
    "assignments_per_task": "1",
    "estimated_minutes": "2",
    "time_allotted_minutes": "10",
    "lifetime_hours": "48",
    "template_html": TEMPLATE,
}


def test_another_organisations_pages_and_batches_are_not_found(client: Client, organisation, requester) -> None:
    other = OrganisationFactory()
    theirs = make_batch(other)
    client.force_login(requester)
    assert client.get(f"/org/{other.slug}/").status_code == 404
    # Our slug with their batch id: still nothing to see.
    assert client.get(f"/org/{organisation.slug}/batches/{theirs.pk}/").status_code == 404
    response = client.post(f"/org/{other.slug}/batches/{theirs.pk}/cancel/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Batch.Status.DRAFT


def test_batch_form_below_the_wage_floor_is_refused_at_publish_and_nothing_is_reserved(
    client: Client, organisation, requester
) -> None:
    client.force_login(requester)
    response = client.post(f"/org/{organisation.slug}/batches/new/", {**BATCH_FORM, "reward": "0.10"})
    batch = Batch.objects.get()
    assert response.status_code == 302
    publish = client.post(f"/org/{organisation.slug}/batches/{batch.pk}/publish/", follow=True)
    assert "the co-op&#x27;s minimum is 12.00 EUR" in publish.content.decode()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and Assignment.objects.count() == 0


def test_batch_form_shows_field_errors_and_saves_nothing(client: Client, organisation, requester) -> None:
    client.force_login(requester)
    response = client.post(
        f"/org/{organisation.slug}/batches/new/", {**BATCH_FORM, "reward": "0.505", "time_allotted_minutes": "1"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["reward"] == ["'0.505' has more decimals than EUR allows (2)."]
    assert Batch.objects.count() == 0
    response = client.post(f"/org/{organisation.slug}/batches/new/", {**BATCH_FORM, "time_allotted_minutes": "1"})
    assert response.context["form"].errors["time_allotted_minutes"] == ["Allow at least the estimated time."]
    assert Batch.objects.count() == 0


def test_a_bad_input_file_is_reported_row_by_row_and_the_draft_keeps_no_rows(
    client: Client, organisation, requester, django_capture_on_commit_callbacks
) -> None:
    client.force_login(requester)
    batch = make_batch(organisation, rows=None)
    with django_capture_on_commit_callbacks(execute=True):
        upload = client.post(
            f"/org/{organisation.slug}/batches/{batch.pk}/input/",
            {"input_file": _file("rows.csv", "animal,image_url\ncat,\n")},
        )
    progress = client.get(upload["Location"])
    operation = progress.context["operation"]
    assert operation["state"] == "failed"
    assert operation["errors"] == ["Row 1, column 'image_url': “image_url” is empty; the template needs a value."]
    assert Task.objects.filter(batch=batch).count() == 0


def test_an_upload_started_on_a_spanish_page_reports_in_spanish(
    client: Client, organisation, requester, django_capture_on_commit_callbacks
) -> None:
    """The job runs later, in a worker process with no request: it reports in the language of
    the page that started it, row errors included (they were English on every page)."""
    client.force_login(requester)
    batch = make_batch(organisation, rows=None)
    with django_capture_on_commit_callbacks(execute=True):
        upload = client.post(
            f"/org/{organisation.slug}/batches/{batch.pk}/input/",
            {"input_file": _file("rows.csv", "animal,image_url\ncat,\ndog,a,b\n")},
            HTTP_ACCEPT_LANGUAGE="es",
        )
    operation = client.get(upload["Location"], HTTP_ACCEPT_LANGUAGE="es").context["operation"]
    assert operation["errors"] == [
        "Fila 2, columna '': Esta fila tiene 3 celdas; el encabezado tiene 2.",
        "Fila 1, columna 'image_url': «image_url» está vacío; la plantilla necesita un valor.",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        upload = client.post(
            f"/org/{organisation.slug}/batches/{batch.pk}/input/",
            {"input_file": _file("rows.csv", "animal,image_url\ncat,https://example.org/cat.jpg\n")},
            HTTP_ACCEPT_LANGUAGE="es",
        )
    operation = client.get(upload["Location"], HTTP_ACCEPT_LANGUAGE="es").context["operation"]
    assert (operation["state"], operation["message"]) == ("done", "1 fila de entrada guardada.")


def test_bulk_approval_of_work_not_awaiting_review_approves_nothing(
    client: Client, organisation, requester, worker, django_capture_on_commit_callbacks
) -> None:
    batch = published_batch(organisation, assignments_per_task=1)
    from tasks import services

    first = services.assignment_accept(worker=worker, batch=batch)
    services.assignment_submit(worker=worker, assignment=first, answers={"answer": "yes"})
    open_slot = Assignment.objects.filter(batch=batch, status=Assignment.Status.OPEN).first()
    client.force_login(requester)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/org/{organisation.slug}/batches/{batch.pk}/review/approve-selected/",
            {"assignment_ids": [first.pk, open_slot.pk]},
        )
    operation = client.get(response["Location"]).context["operation"]
    assert operation["state"] == "failed"
    assert operation["message"].endswith("Nothing was approved.")
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED


def test_progress_of_someone_elses_operation_is_not_found(client: Client, organisation, requester) -> None:
    batch = make_batch(organisation, rows=None)
    client.force_login(requester)
    upload = client.post(
        f"/org/{organisation.slug}/batches/{batch.pk}/input/",
        {"input_file": _file("rows.csv", "animal,image_url\ncat,https://x.example/1.jpg\n")},
    )
    client.force_login(UserFactory())
    assert client.get(upload["Location"]).status_code == 404


def test_treasury_is_for_the_treasurer_only(client: Client, organisation, requester) -> None:
    from payments import services as payment_services

    deposit = payment_services.deposit_bank_start(organisation=organisation, actor=requester, amount=5000)
    client.force_login(requester)
    assert client.get("/treasury/").status_code == 403
    assert (
        client.post(f"/treasury/deposits/{deposit.pk}/confirm/", {f"d{deposit.pk}-amount": "50.00"}).status_code == 403
    )
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.AWAITING_TRANSFER and deposit.credited_amount == 0


def test_api_key_secret_is_shown_once(client: Client, organisation, requester) -> None:
    client.force_login(requester)
    created = client.post(
        f"/org/{organisation.slug}/keys/", {"label": "psiTurk", "scopes": ["publish", "review", "funds"]}
    )
    secret = created.context["created"].secret
    assert secret in created.content.decode()
    assert secret not in client.get(f"/org/{organisation.slug}/keys/").content.decode()
    key = ApiKey.objects.get()
    client.post(f"/org/{organisation.slug}/keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_proposals_are_for_members_and_a_bad_value_saves_nothing(client: Client, worker) -> None:
    client.force_login(worker)
    assert client.get("/coop/proposals/").status_code == 403
    member = MemberFactory()
    client.force_login(member)
    response = client.post(
        "/coop/proposals/",
        {"kind": "rule_change", "title": "Lower fee", "body": "Why not.", "rule_key": "platform_fee_bps",
         "proposed_value": "75"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["proposed_value"] == [
        "Platform fee must be between 0% and 50%; 75% is outside those limits."
    ]
    assert Proposal.objects.count() == 0


def _file(name: str, content: str):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def test_card_top_up_starts_a_payment_intent_and_credits_nothing(
    client: Client, organisation, requester, fake_stripe
) -> None:
    client.force_login(requester)
    form = client.get(f"/org/{organisation.slug}/funds/")
    assert b"Card (Stripe)" in form.content
    response = client.post(f"/org/{organisation.slug}/funds/", {"amount": "30.00", "method": "card"})
    deposit = Deposit.objects.get()
    assert response["Location"] == f"/org/{organisation.slug}/funds/{deposit.pk}/"
    assert (deposit.method, deposit.status, deposit.credited_amount) == ("stripe", "pending", 0)
    page = client.get(response["Location"])
    assert deposit.stripe_client_secret and deposit.stripe_client_secret in page.content.decode()
    assert "script-src 'self' https://js.stripe.com" in page["Content-Security-Policy"]
    # Only the signed webhook credits a card payment: the balance is still empty.
    from payments.selectors import organisation_balance

    assert organisation_balance(organisation=organisation).available == 0


def test_card_is_not_offered_without_stripe_keys(client: Client, organisation, requester) -> None:
    client.force_login(requester)
    assert b"Card (Stripe)" not in client.get(f"/org/{organisation.slug}/funds/").content
    response = client.post(f"/org/{organisation.slug}/funds/", {"amount": "30.00", "method": "card"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.context["form"].errors["method"][0]
    assert Deposit.objects.count() == 0


def test_an_export_file_is_downloaded_only_by_who_asked_for_it(
    client: Client, organisation, requester, worker, django_capture_on_commit_callbacks
) -> None:
    from tasks import services

    batch = published_batch(organisation, assignments_per_task=1)
    slot = services.assignment_accept(worker=worker, batch=batch)
    services.assignment_submit(worker=worker, assignment=slot, answers={"answer": "no"})
    services.assignment_approve(actor=requester, assignment=slot)
    client.force_login(requester)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/org/{organisation.slug}/batches/{batch.pk}/export/json/")
    download = started["Location"] + "file/"
    body = b"".join(client.get(download).streaming_content)  # type: ignore[attr-defined]
    assert [row["AssignmentId"] for row in json.loads(body)] == [str(slot.pk)]
    client.force_login(UserFactory())
    assert client.get(download).status_code == 404


def test_a_secret_ballot_shows_its_secret_once_and_needs_it_to_change(client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from governance.models import Ballot
    from tests.governance.factories import members, rule_change, to_voting

    author, voter = members(2)
    proposal = rule_change(author, "minimum_hourly_wage", 1500)  # economic rules: secret ballots
    to_voting(proposal, start=timezone.now() - timedelta(days=7, hours=1))
    client.force_login(voter)
    cast = client.post(f"/coop/proposals/{proposal.pk}/vote/", {"choice": "yes"})
    assert cast.status_code == 200
    secret = cast.context["receipt"].ballot_secret
    assert secret and secret in cast.content.decode()
    assert secret not in client.get(f"/coop/proposals/{proposal.pk}/").content.decode()

    refused = client.post(f"/coop/proposals/{proposal.pk}/vote/", {"choice": "no"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["ballot_secret"] == ["Required to change a secret ballot."]
    assert list(Ballot.objects.values_list("choice", flat=True)) == ["yes"]

    changed = client.post(f"/coop/proposals/{proposal.pk}/vote/", {"choice": "no", "ballot_secret": secret})
    assert changed.status_code == 302
    assert list(Ballot.objects.values_list("choice", flat=True)) == ["no"]
