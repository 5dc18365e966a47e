"""Every periodic job in the beat table is a registered Celery task, and beat reads the table."""

from django.conf import settings

from coop.celery import app


def test_settings_carry_the_beat_schedule() -> None:
    from coop.schedule import BEAT_SCHEDULE

    assert settings.CELERY_BEAT_SCHEDULE is BEAT_SCHEDULE
    assert app.conf.beat_schedule == BEAT_SCHEDULE
    assert "platform-heartbeat" in BEAT_SCHEDULE


def test_every_scheduled_job_is_a_registered_task() -> None:
    app.loader.import_default_modules()
    registered = set(app.tasks)
    missing = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - registered
    assert missing == set()
