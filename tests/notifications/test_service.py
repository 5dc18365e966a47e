from datetime import UTC, datetime

import pytest
from django.core import mail

from core.errors import AppError
from notifications import services
from notifications.models import Notification, NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def test_notify_writes_inbox_entries_and_queues_immediate_mail(django_capture_on_commit_callbacks) -> None:
    users = UserFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        created = services.notify(
            users=users,
            category="juror_drawn",
            params={"case": 7, "deadline": datetime(2026, 12, 8, 12, 0, tzinfo=UTC)},
            url="/cases/7/",
        )
    assert created == 3
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(u.pk for u in users)
    assert len(mail.outbox) == 3
    assert mail.outbox[0].subject == "You were drawn as a juror for case 7"
    assert "Dec. 8, 2026, noon UTC" in mail.outbox[0].body
    assert set(Notification.objects.values_list("email", flat=True)) == {"sent"}


def test_unknown_event_is_refused_and_nothing_is_written() -> None:
    user = UserFactory()
    with pytest.raises(AppError) as raised:
        services.notify(users=[user], category="party_invitation", params={})
    assert raised.value.code == "unknown_event"
    assert raised.value.status_code == 400
    assert not Notification.objects.exists()


def test_missing_parameter_is_refused_and_nothing_is_written() -> None:
    user = UserFactory()
    with pytest.raises(AppError) as raised:
        services.notify(users=[user], category="juror_drawn", params={"case": 1})
    assert raised.value.code == "invalid_params"
    assert not Notification.objects.exists()


def test_preference_off_keeps_the_inbox_entry_without_mail(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    services.preference_set(user=user, category="juror_drawn", email="off")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            users=[user], category="juror_drawn", params={"case": 1, "deadline": "2026-12-08T12:00:00+00:00"}
        )
    assert Notification.objects.get().email == "none"
    assert mail.outbox == []


def test_a_case_against_the_person_cannot_be_turned_off() -> None:
    user = UserFactory()
    with pytest.raises(AppError) as raised:
        services.preference_set(user=user, category="dispute_opened", email="off")
    assert raised.value.code == "cannot_unsubscribe"
    assert not NotificationPreference.objects.exists()
