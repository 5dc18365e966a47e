"""Times in messages written in Python (notices, e-mails, refusals) read in the reader's own
time zone, with the zone named, and deadlines say how far away they are (issue 25.2)."""

import zoneinfo
from datetime import datetime, timedelta

from django.core import mail
from django.utils import formats, timezone, translation

from accounts.models import User
from core.moments import moment_text, relative, zone_label
from notifications import services as notification_services
from notifications.render import words
from tests.factories import UserFactory


def _written(moment: datetime, zone_name: str, language: str) -> str:
    """How Django writes ``moment`` on a clock in ``zone_name`` for a ``language`` reader."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    with translation.override(language):
        return formats.date_format(local, "DATETIME_FORMAT")


def test_the_same_notice_reads_in_each_workers_own_time(db: None, django_capture_on_commit_callbacks) -> None:
    kolkata: User = UserFactory(email="kolkata@example.org")
    caracas: User = UserFactory(email="caracas@example.org")
    notification_services.notification_settings_set(user=kolkata, language="en", time_zone="Asia/Kolkata")
    notification_services.notification_settings_set(user=caracas, language="es", time_zone="America/Caracas")
    deadline = (timezone.now() + timedelta(days=2, minutes=30)).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        notification_services.notify(
            users=[kolkata, caracas], category="juror_drawn", params={"case": 7, "deadline": deadline}, url="/cases/7/"
        )
    bodies = {message.to[0]: message.body for message in mail.outbox}
    in_kolkata, in_caracas = bodies["kolkata@example.org"], bodies["caracas@example.org"]
    assert f"{_written(deadline, 'Asia/Kolkata', 'en')} IST (in 2 days)" in in_kolkata
    assert f"{_written(deadline, 'America/Caracas', 'es')} UTC-04 (dentro de 2 días)" in in_caracas
    # Two clocks 9.5 hours apart: the same moment written differently, neither as UTC.
    assert _written(deadline, "Asia/Kolkata", "en") != _written(deadline, "America/Caracas", "en")
    assert "UTC)" not in in_kolkata and "UTC)" not in in_caracas


def test_a_zone_without_an_abbreviation_is_named_by_its_offset() -> None:
    moment = datetime(2026, 12, 6, 12, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert zone_label(moment.astimezone(zoneinfo.ZoneInfo("America/Caracas"))) == "UTC-04"
    assert zone_label(moment.astimezone(zoneinfo.ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"
    assert zone_label(moment.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))) == "CET"
    # An unknown zone name (a stale setting) reads as UTC rather than failing.
    assert moment_text(moment, time_zone="Mars/Olympus", language="en") == "Dec. 6, 2026, noon UTC"
    assert moment_text(moment, time_zone="Asia/Kolkata", language="de") == "6. Dezember 2026 17:30 IST"


def test_a_notices_calendar_dates_are_written_the_readers_way() -> None:
    params = {"amount": "1.00 EUR", "period_start": "2026-01-01", "period_end": "2026-06-30"}
    english = words(category="dividend_paid", params=params, language="en")
    assert "surplus of Jan. 1, 2026 to June 30, 2026." in english.body
    german = words(category="dividend_paid", params=params, language="de")
    assert "1. Januar 2026" in german.body and "30. Juni 2026" in german.body
    filipino = words(category="dividend_paid", params=params, language="fil")
    assert "Enero 1, 2026" in filipino.body and "2026-01-01" not in filipino.body


def test_filipino_and_hindi_readers_get_unambiguous_times_written_their_way() -> None:
    moment = datetime(2026, 12, 6, 8, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    # Django has no Filipino formats (English abbreviations before) ...
    assert moment_text(moment, time_zone="Asia/Manila", language="fil") == "Disyembre 6, 2026, 4:30 PM PST"
    # ... and its Hindi writes a.m. and p.m. alike ("बजे"): a 24-hour clock instead.
    assert moment_text(moment, time_zone="Asia/Kolkata", language="hi") == "6 दिसंबर 2026, 14:00 IST"
    assert moment_text(moment, time_zone="Asia/Kolkata", language="en") == "Dec. 6, 2026, 2 p.m. IST"


def test_a_german_deadline_email_declines_the_span(db: None, django_capture_on_commit_callbacks) -> None:
    berlin: User = UserFactory(email="berlin@example.org")
    notification_services.notification_settings_set(user=berlin, language="de", time_zone="Europe/Berlin")
    deadline = (timezone.now() + timedelta(days=2, minutes=30)).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        notification_services.notify(users=[berlin], category="juror_drawn", params={"case": 7, "deadline": deadline})
    (email,) = mail.outbox
    # "in" takes the dative: "in 2 Tagen", never "in 2 Tage".
    assert "(in 2 Tagen)" in email.body and "2 Tage)" not in email.body


def test_each_language_says_how_far_away_a_moment_is_in_its_own_words() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    spans = [
        timedelta(days=2),  # 48 hours: told in days
        timedelta(days=1, hours=1),  # under 48 hours: told in hours
        timedelta(hours=1, minutes=10),
        timedelta(minutes=5, seconds=20),
        -timedelta(days=2, hours=1),
        -timedelta(seconds=90),
        -timedelta(hours=3),
    ]
    cases = {
        "de": [
            "in 2 Tagen",
            "in 25 Stunden",
            "in 1 Stunde",
            "in 5 Minuten",
            "vor 2 Tagen",
            "vor 1 Minute",
            "vor 3 Stunden",
        ],
        "hi": ["2 दिन में", "25 घंटे में", "1 घंटे में", "5 मिनट में", "2 दिन पहले", "1 मिनट पहले", "3 घंटे पहले"],
        "en": ["in 2 days", "in 25 hours", "in 1 hour", "in 5 minutes", "2 days ago", "1 minute ago", "3 hours ago"],
    }
    for language, expected in cases.items():
        with translation.override(language):
            assert [relative(now + span, now=now) for span in spans] == expected, language
