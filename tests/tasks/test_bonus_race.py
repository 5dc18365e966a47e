"""Issue 19 point 7: concurrent retries of a bonus with one idempotency token, on PostgreSQL
with real threads: every retry answers the first bonus (or a clean 409), never 500, paid once."""

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.escrow import CODE_BONUS
from ledger.models import Transfer
from ledger.selectors import ledger_check
from tasks import services
from tasks.models import Bonus
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import available, earnings, published_batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post_together(user: Any, url: str, bodies: list[dict[str, Any]]) -> list[Any]:
    barrier = threading.Barrier(len(bodies))
    results: list[Any] = [None] * len(bodies)

    def run(index: int, body: dict[str, Any]) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            results[index] = client.post(url, body, format="json")
        except Exception as error:  # the assertion below shows it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_bonus_retries_with_one_token_pay_once_and_answer_the_same_bonus(organisation, requester) -> None:
    batch = published_batch(organisation)
    worker = UserFactory()
    work = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "yes"}
    )
    fund(organisation, 500)
    url = f"/api/batches/{batch.pk}/submissions/{work.pk}/bonus/"
    body = {"amount": 200, "reason": "Careful work.", "token": "retry-1"}

    responses = _post_together(requester, url, [body] * 6)

    assert [getattr(r, "status_code", r) for r in responses] == [201] * 6
    assert {r.json()["id"] for r in responses} == {Bonus.objects.get().pk}
    assert earnings(worker) == 200 and available(organisation) == 300
    assert Transfer.objects.filter(code=CODE_BONUS).count() == 1
    assert ledger_check() == []


def test_concurrent_reuse_of_a_token_for_another_amount_is_a_clean_409(organisation, requester) -> None:
    batch = published_batch(organisation)
    worker = UserFactory()
    work = services.assignment_submit(
        worker=worker, assignment=services.assignment_accept(worker=worker, batch=batch), answers={"answer": "yes"}
    )
    fund(organisation, 500)
    url = f"/api/batches/{batch.pk}/submissions/{work.pk}/bonus/"
    bodies = [{"amount": 100 + i % 2, "reason": "Careful work.", "token": "retry-2"} for i in range(6)]

    responses = _post_together(requester, url, bodies)

    codes = sorted(getattr(r, "status_code", r) for r in responses)
    assert set(codes) <= {201, 409} and 201 in codes, codes
    conflicts = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) <= {"token_reused"}
    bonus = Bonus.objects.get()
    assert earnings(worker) == bonus.amount and available(organisation) == 500 - bonus.amount
    assert ledger_check() == []
