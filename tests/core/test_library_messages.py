"""The libraries' own messages a person can see (Django's form errors, password rules and
month names, DRF's and django-filter's API errors) read in every language we ship, including
those the libraries have no catalog for (Filipino; Hindi for DRF and django-filter): our
translations of them live in locale_libraries/ (issue 25.1)."""

import gettext
from datetime import date
from pathlib import Path

import django
import django_filters
import pytest
import rest_framework
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import formats, translation
from rest_framework.test import APIClient

from frontend.forms import ApiKeyForm, RenameForm
from notifications.services import notification_settings_set
from tests.factories import UserFactory
from tests.frontend.test_translations import parse_po

LIBRARY_LOCALE = Path(settings.BASE_DIR) / "locale_libraries"
CATALOGS = sorted(LIBRARY_LOCALE.glob("*/LC_MESSAGES/django.po"))
LIBRARY_DIRS = [
    Path(django.__file__).parent / "conf" / "locale",
    Path(django.__file__).parent / "contrib" / "auth" / "locale",
    Path(rest_framework.__file__).parent / "locale",
    Path(django_filters.__file__).parent / "locale",
]


def _library_msgids() -> set[tuple[str, str]]:
    """(context, msgid) of the messages the libraries have (read from catalogs they ship)."""
    found: set[tuple[str, str]] = set()
    for directory in LIBRARY_DIRS:
        for language in ("en", "es", "de", "fr"):
            path = directory / language / "LC_MESSAGES" / "django.mo"
            if path.exists():
                found |= _msgids(path)
    return found


def _msgids(path: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    with path.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        for entry in catalog:
            text = entry[0] if isinstance(entry, tuple) else entry
            context, _separator, msgid = text.rpartition("\x04")
            found.add((context, msgid))
    return found


def test_there_is_a_catalog_for_filipino_and_hindi() -> None:
    assert {path.parts[-3] for path in CATALOGS} >= {"fil", "hi"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_each_entry_is_the_librarys_own_message_translated_and_compiled(path: Path) -> None:
    known = _library_msgids()
    entries = parse_po(path)
    assert entries
    with (path.parent / "django.mo").open("rb") as compiled:
        loaded = gettext.GNUTranslations(compiled)
    for entry in entries:
        # A library upgrade that rewords a message would leave ours unused: it fails here.
        assert (entry.get("ctx", ""), entry["id"]) in known, entry["id"]
        assert "fuzzy" not in entry["flags"] and all(entry["str"].values()), entry["id"]
        if "ctx" in entry:
            assert loaded.pgettext(entry["ctx"], entry["id"]) == entry["str"][0]
        elif "plural" in entry:
            assert loaded.ngettext(entry["id"], entry["plural"], 1) == entry["str"][0]
        else:
            assert loaded.gettext(entry["id"]) == entry["str"][0], "compile the catalog"


def test_in_filipino_an_api_validation_error_comes_translated(db: None) -> None:
    person = UserFactory()
    notification_settings_set(user=person, language="fil", time_zone="Asia/Manila")
    client = APIClient()
    client.force_login(person)
    response = client.patch(
        "/api/notifications/settings/", {"time_zone": ["x"], "email": {"juror_drawn": "bogus"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "time_zone": ["Hindi wastong string."],
        "email.juror_drawn": ['Hindi wastong opsiyon ang "bogus".'],
    }
    anonymous = APIClient().get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="hi")
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_in_filipino_a_form_error_and_the_password_rules_come_translated() -> None:
    with translation.override("fil"):
        form = RenameForm(data={"display_name": "x" * 121})
        assert not form.is_valid()
        assert form.errors["display_name"] == [
            "Tiyaking hindi hihigit sa 120 ang mga character ng halagang ito (mayroon itong 121)."
        ]
        keys = ApiKeyForm(data={"scopes": ["everything"]})
        assert not keys.is_valid()
        assert keys.errors["scopes"] == [
            "Pumili ng wastong opsiyon. Ang everything ay wala sa mga opsiyong puwedeng piliin."
        ]
        assert RenameForm(data={}).errors["display_name"] == ["Kailangan ang field na ito."]
        with pytest.raises(ValidationError) as refused:
            validate_password("1234")
        assert "Puro numero ang password na ito." in refused.value.messages
        assert formats.date_format(date(2026, 12, 6), "DATE_FORMAT") == "Disyembre 6, 2026"
    with translation.override("hi"), pytest.raises(ValidationError) as refused:
        validate_password("1234")
    assert "यह पासवर्ड केवल अंकों से बना है।" in refused.value.messages
