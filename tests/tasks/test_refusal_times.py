"""A refusal that names a time names it on the caller's own clock (issue 25.2)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import formats, translation
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from core.errors import AppError
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


def _waves_batch(organisation: Organisation):  # type: ignore[no-untyped-def]
    rows = "text\n" + "\n".join(f"sentence {i}" for i in range(48)) + "\n"
    return published_batch(
        organisation,
        rows=rows,
        template_html='<p>${text}</p><input name="label" required>',
        assignments_per_task=1,
        dispatch_mode="waves",
    )


def test_dispatch_refusals_name_the_full_date_in_each_language(organisation: Organisation, clock: Clock) -> None:
    from tasks import services
    from tasks.models import DispatchWave

    batch = _waves_batch(organisation)
    german: User = UserFactory()
    notification_services.notification_settings_set(user=german, language="de", time_zone="Europe/Berlin")
    french: User = UserFactory()
    notification_services.notification_settings_set(user=french, language="fr", time_zone="Europe/Paris")
    page = Client()
    page.force_login(german)
    # Through the page: the German worker applies, is told the draw's full date on her clock,
    # then applies again and is refused with the same date: "am", not "um", before a date.
    response = page.post(f"/work/batches/{batch.pk}/apply/", follow=True)
    draws_at = DispatchWave.objects.get(batch=batch, number=1).draws_at
    on_berlin_clock = f"{_written(draws_at, 'Europe/Berlin', 'de')} CET (in 10 Minuten)"
    text = response.content.decode()
    assert f"Die Plätze werden am {on_berlin_clock} gezogen;" in text
    with translation.override("de"), pytest.raises(AppError) as refused:
        services.wave_apply(worker=german, batch=batch)
    assert refused.value.message.endswith(f"die Ziehung ist am {on_berlin_clock}.")
    with translation.override("fr"):
        services.wave_apply(worker=french, batch=batch)
        with pytest.raises(AppError) as refused:
            services.wave_apply(worker=french, batch=batch)
    assert refused.value.message.endswith(
        f"le tirage a lieu le {_written(draws_at, 'Europe/Paris', 'fr')} CET (dans 10 minutes)."
    )
    clock.advance(minutes=10)  # wave 1's window closed; wave 2's opens in 50 minutes
    with translation.override("de"), pytest.raises(AppError) as refused:
        services.wave_apply(worker=german, batch=batch)
    opens_at = batch.published_at + timedelta(hours=1)
    assert refused.value.code == "window_closed"
    assert refused.value.message.endswith(
        f"das nächste öffnet am {_written(opens_at, 'Europe/Berlin', 'de')} CET (in 50 Minuten)."
    )
