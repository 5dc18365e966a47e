"""Every test starts in the default language and time zone (tests/conftest.py): a request
that activated a person's language in this thread must not leak into the next test."""

from django.test import Client
from django.utils import timezone, translation

from notifications.services import notification_settings_set
from tests.factories import UserFactory


def test_a_request_leaves_its_persons_language_active_in_the_thread(client: Client, db: None) -> None:
    person = UserFactory()
    notification_settings_set(user=person, language="fil", time_zone="Asia/Manila")
    client.force_login(person)
    client.get("/")
    # Django leaves the request's language active after the response: the fixture's job.
    assert translation.get_language() == "fil"


def test_the_next_test_starts_in_english_and_utc() -> None:
    # Runs after the test above (file order); without the reset it would read Filipino.
    assert translation.get_language() == "en"
    assert timezone.get_current_timezone_name() == "UTC"
