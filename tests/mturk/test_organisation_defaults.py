"""Unchanged MTurk code publishes (issue 24 point 7): a Description without "Purpose:",
"Data use:" or "Location reason:" lines is refused until the organisation sets its
defaults once (here with the same key pair, through the REST API); then the same boto3
calls publish, workers read the defaults before accepting, and the work round-trips."""

import pytest
import requests
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from ledger import accounts
from ledger.escrow import balance
from mturk.models import Hit
from tasks import services as task_services
from tasks.models import Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import live
from tests.mturk.helpers import SLOT_COST, available, hit_params

pytestmark = [live]

# What MTurk code writes: no co-op lines at all.
PLAIN_DESCRIPTION = "Look at a picture and say whether it shows a cat."
LOCALE_REQUIREMENT = {
    "QualificationTypeId": "00000000000000000071",
    "Comparator": "In",
    "LocaleValues": [{"Country": "DE"}, {"Country": "AT"}],
}
DEFAULTS = {
    "default_purpose": "Training data for a wildlife camera classifier.",
    "default_data_use": "Published under an open licence; no personal data.",
    "default_location_reason": "The pictures show animals named in German dialects.",
}


def test_unchanged_hit_code_publishes_with_the_organisation_defaults(
    mturk, organisation, worker, keys, live_server
) -> None:
    fund(organisation, 1_000)
    params = hit_params(Description=PLAIN_DESCRIPTION, QualificationRequirements=[LOCALE_REQUIREMENT])

    with pytest.raises(ClientError) as refused:
        mturk.create_hit(**params)
    message = refused.value.response["Error"]["Message"]
    assert "Location reason" in message and "default_location_reason" in message
    with pytest.raises(ClientError) as refused:
        mturk.create_hit(**{**params, "QualificationRequirements": []})
    assert "'Purpose: ...' and 'Data use: ...'" in refused.value.response["Error"]["Message"]
    assert not Batch.objects.exists() and not Hit.objects.exists()
    assert available(organisation) == 1_000

    # Once, with the same key pair the scripts use.
    access_key_id, secret = keys
    response = requests.patch(
        f"{live_server.url}/api/organisations/{organisation.slug}/",
        json=DEFAULTS,
        headers={"Authorization": f"ApiKey {access_key_id}:{secret}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text

    created = mturk.create_hit(**params)["HIT"]
    hit = Hit.objects.select_related("batch").get(hit_id=created["HITId"])
    batch = hit.batch
    assert (batch.purpose, batch.data_use) == (DEFAULTS["default_purpose"], DEFAULTS["default_data_use"])
    (requirement,) = batch.requirements.all()
    assert (requirement.countries, requirement.reason) == (",AT,DE,", DEFAULTS["default_location_reason"])
    assert available(organisation) == 1_000 - 2 * SLOT_COST

    # Workers read them before accepting.
    client = APIClient()
    client.force_authenticate(worker)
    preview = client.get(f"/api/tasks/feed/{batch.pk}/").json()
    assert preview["batch"]["purpose"] == DEFAULTS["default_purpose"]
    assert preview["batch"]["data_use"] == DEFAULTS["default_data_use"]
    assert DEFAULTS["default_location_reason"] in str(preview["batch"]["requirements"])

    # A HIT that states its own lines keeps them.
    own = mturk.create_hit(**hit_params(MaxAssignments=1))["HIT"]
    assert Hit.objects.get(hit_id=own["HITId"]).batch.purpose == "training data for a wildlife camera classifier."

    # ... and the work round-trips with the unchanged code.
    from accounts.models import WorkerProfile

    WorkerProfile.objects.update_or_create(user=worker, defaults={"country": "DE"})
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes", "comment": ""})
    (listed,) = mturk.list_assignments_for_hit(HITId=hit.hit_id)["Assignments"]
    mturk.approve_assignment(AssignmentId=listed["AssignmentId"])
    assert balance(accounts.worker_earnings(worker)).posted == 50
