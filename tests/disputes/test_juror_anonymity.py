"""Issue 19 point 4: jurors read the task content they must judge with the requester's names
and the batch title replaced by neutral labels, in the API and on the page."""

import json

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Organisation
from disputes import services
from disputes.models import Case, Juror
from disputes.selectors import BATCH_LABEL, REQUESTER_LABEL
from tasks.models import Batch
from tests.disputes.factories import batch_for, jurors, reject, submitted
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contested() -> Case:
    organisation = OrganisationFactory(display_name="Acme Vision Lab", legal_name="Acme Vision Research GmbH")
    Organisation.objects.filter(pk=organisation.pk).update(slug="acme-vision")
    organisation.refresh_from_db()
    owner = organisation.staff.get(role="owner").user
    account_services.organisation_rename(organisation=organisation, actor=owner, new_name="AcmeVision")
    batch = batch_for(organisation)
    Batch.objects.filter(pk=batch.pk).update(
        title="Acme street signs 2026",
        description="Label the photos for ACME VISION LAB (acme-vision.example). Task: Acme street signs 2026.",
    )
    work = reject(submitted(Batch.objects.get(pk=batch.pk), UserFactory()), text="Acme Vision Lab says: wrong.")
    case = services.dispute_open(worker=work.worker, assignment_id=work.pk, statement="Acme street signs are hard.")
    jurors(6)
    services.case_respond(case=case, actor=owner, action="contest", text="AcmeVision checked every label.")
    return Case.objects.get(pk=case.pk)


SECRETS = ("Acme Vision Lab", "Acme Vision Research GmbH", "acme-vision", "AcmeVision", "Acme street signs 2026")


def _assert_anonymous(text: str) -> None:
    folded = text.casefold()
    for secret in SECRETS:
        assert secret.casefold() not in folded, secret


def test_the_juror_api_replaces_names_and_title_with_labels(contested) -> None:
    juror = Juror.objects.filter(case=contested).first()
    client = APIClient()
    client.force_authenticate(juror.user)

    body = client.get(f"/api/disputes/cases/{contested.pk}/").json()

    _assert_anonymous(json.dumps(body))
    assert body["task_type"] == BATCH_LABEL
    assert body["task_description"] == (
        f"Label the photos for {REQUESTER_LABEL} ({REQUESTER_LABEL}.example). Task: {BATCH_LABEL}."
    )
    assert body["response_text"] == f"{REQUESTER_LABEL} checked every label."
    assert body["items"][0]["rejection_text"] == f"{REQUESTER_LABEL} says: wrong."
    assert body["items"][0]["answers"] == {"label": "cat"}  # the work itself is shown
    queue = client.get("/api/disputes/juror/cases/").json()
    assert [row["task_type"] for row in queue] == [BATCH_LABEL]


def test_the_parties_still_see_the_real_names(contested) -> None:
    client = APIClient()
    client.force_authenticate(contested.worker)
    body = client.get(f"/api/disputes/cases/{contested.pk}/").json()
    assert body["task_type"] == "Acme street signs 2026"
    assert body["requester"] == "AcmeVision"


def test_the_juror_pages_show_labels_not_names(contested, client) -> None:
    juror = Juror.objects.filter(case=contested).first()
    client.force_login(juror.user)

    case_page = client.get(f"/cases/{contested.pk}/")
    cases_page = client.get("/cases/")

    assert case_page.status_code == 200 and cases_page.status_code == 200
    _assert_anonymous(case_page.content.decode())
    _assert_anonymous(cases_page.content.decode())
    assert BATCH_LABEL in case_page.content.decode() and REQUESTER_LABEL in case_page.content.decode()
    assert BATCH_LABEL in cases_page.content.decode()
