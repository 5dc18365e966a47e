"""List operations cost a constant number of queries, whatever the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from mturk import operations
from tasks import services as task_services
from tests.factories import OrganisationFactory, UserFactory
from tests.ledger.factories import fund
from tests.mturk.helpers import hit_params

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller() -> operations.Caller:
    organisation = OrganisationFactory()
    owner = organisation.staff.get(role="owner").user
    key = account_services.api_key_create(organisation=organisation, created_by=owner).key
    fund(organisation, 100_000)
    return operations.Caller(organisation=organisation, actor=owner, key=key)


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_list_hits_and_assignments_cost_constant_queries(caller: operations.Caller) -> None:
    def create() -> str:
        return operations.create_hit(caller, hit_params(MaxAssignments=3))["HIT"]["HITId"]

    first = create()
    few = queries(lambda: operations.list_hits(caller, {}))
    for _ in range(4):
        create()
    assert queries(lambda: operations.list_hits(caller, {})) == few
    assert len(operations.list_hits(caller, {})["HITs"]) == 5

    from mturk.models import Hit

    batch = Hit.objects.get(hit_id=first).batch
    worker = UserFactory()
    slot = task_services.assignment_accept(worker=worker, batch=batch)
    task_services.assignment_submit(worker=worker, assignment=slot, answers={"cat": "yes"})
    one = queries(lambda: operations.list_assignments_for_hit(caller, {"HITId": first}))
    for _ in range(2):
        other = UserFactory()
        slot = task_services.assignment_accept(worker=other, batch=batch)
        task_services.assignment_submit(worker=other, assignment=slot, answers={"cat": "no"})
    assert queries(lambda: operations.list_assignments_for_hit(caller, {"HITId": first})) == one
    assert operations.list_assignments_for_hit(caller, {"HITId": first})["NumResults"] == 3
