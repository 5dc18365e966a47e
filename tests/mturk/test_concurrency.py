"""UniqueRequestToken under real concurrency on PostgreSQL: simultaneous retries of one
CreateHIT through boto3 reserve escrow once and all get the same HIT."""

import threading

import pytest

from mturk.models import Hit, RequestToken
from tasks.models import Assignment, Batch
from tests.ledger.factories import fund
from tests.mturk.conftest import client_for
from tests.mturk.helpers import SLOT_COST, available, hit_params

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_retries_with_one_token_create_one_hit(live_server, organisation, keys) -> None:
    fund(organisation, 1_000)
    clients = [client_for(live_server.url, *keys) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    answers: list[str] = []
    failures: list[BaseException] = []

    def create(client) -> None:
        try:
            barrier.wait()
            answers.append(client.create_hit(**hit_params(UniqueRequestToken="storm"))["HIT"]["HITId"])
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=create, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(answers) == 8
    assert set(answers) == {Hit.objects.get().hit_id}
    assert (Batch.objects.count(), Assignment.objects.count(), RequestToken.objects.count()) == (1, 2, 1)
    assert available(organisation) == 1_000 - 2 * SLOT_COST
