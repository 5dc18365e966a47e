"""Follow-up jobs queued by name after commit (``core.queue``)."""

import pytest
from django.db import transaction

from core.queue import queue_on_commit, registered_job

pytestmark = pytest.mark.django_db


def test_a_job_is_found_by_its_registered_name() -> None:
    assert registered_job("disputes.jobs.check_mass_rejection").name == "disputes.jobs.check_mass_rejection"
    with pytest.raises(LookupError):
        registered_job("disputes.jobs.no_such_job")


def test_nothing_is_queued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_on_commit("core.jobs.heartbeat")
        raise RuntimeError("roll back")
    assert callbacks == []
