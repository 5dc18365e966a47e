"""A refusal that names a time names it on the caller's own clock (issue 25.2)."""

import zoneinfo
from datetime import datetime

from django.utils import formats, translation
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from notifications import services as notification_services
from tests.factories import UserFactory
from tests.tasks.conftest import Clock
from tests.tasks.factories import published_batch


def _written(moment: datetime, zone_name: str, language: str) -> str:
    local = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    with translation.override(language):
        return formats.date_format(local, "DATETIME_FORMAT")


def test_a_refusal_names_the_time_on_the_callers_own_clock(organisation: Organisation, clock: Clock) -> None:
    from tasks import services

    batch = published_batch(organisation)
    for zone_name, label in (("Asia/Kolkata", "IST"), ("America/Caracas", "UTC-04")):
        worker: User = UserFactory()
        notification_services.notification_settings_set(user=worker, language="en", time_zone=zone_name)
        assignment = services.assignment_accept(worker=worker, batch=batch)
        assert assignment.deadline_at is not None
        api = APIClient()
        api.force_authenticate(worker)
        clock.advance(minutes=16)  # past the time allotted and its grace
        response = api.post(f"/api/assignments/{assignment.pk}/submit/", {"answers": {"answer": "y"}}, format="json")
        assert response.status_code == 409
        message = response.json()["error"]["message"]
        assert message == (
            f"The time allotted ended at {_written(assignment.deadline_at, zone_name, 'en')} {label}; "
            "the slot reopens for others."
        )
