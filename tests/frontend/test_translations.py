"""The catalogs are complete: every string the code marks for translation is in the Spanish,
Brazilian Portuguese, French, Hindi and Filipino catalogs, translated, none fuzzy, and the
compiled catalogs are the ones Django loads. A string added to a page without a translation
fails here (run ``make messages``, translate, compile)."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

LANGUAGES = ("es", "pt_BR", "fr", "hi", "fil", "de")
LOCALE = Path(settings.BASE_DIR) / "locale"
IGNORED = [".venv/*", "build/*", "tests/*", "bench/*", "docs/*", "var/*", "*.egg-info/*", "node_modules/*"]


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[dict]:
    """Entries of a PO file: context, id, plural id, translations and flags (no obsolete ones)."""
    entries: list[dict] = []
    current: dict = {"flags": [], "str": {}}
    field: tuple = ()
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "id" in current:
                entries.append(current)
            current, field = {"flags": [], "str": {}}, ()
            continue
        if line.startswith("#~"):
            current["obsolete"] = True
        elif line.startswith("#,"):
            current["flags"] += [flag.strip() for flag in line[2:].split(",")]
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line):
            key, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if key.startswith("msgstr"):
                field = ("str", int(index or 0))
                current["str"][field[1]] = value
            else:
                field = ({"msgctxt": "ctx", "msgid": "id", "msgid_plural": "plural"}[key],)
                current[field[0]] = value
        elif line.startswith('"'):
            if field[0] == "str":
                current["str"][field[1]] += _unquote(line)
            else:
                current[field[0]] += _unquote(line)
    return [entry for entry in entries if entry["id"] and not entry.get("obsolete")]


def key(entry: dict) -> tuple[str, str]:
    return (entry.get("ctx", ""), entry["id"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    entries = parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 1000
    untranslated = [e["id"] for e in entries if not all(e["str"].get(i) for i in range(2 if "plural" in e else 1))]
    fuzzy = [e["id"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{len(untranslated)} untranslated in {language}: {untranslated[:5]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy in {language}: {fuzzy[:5]}"


def test_every_marked_string_of_the_code_is_in_every_catalog() -> None:
    """makemessages for a throw-away locale (its template kept), then compare that template
    with the catalogs; the throw-away files are removed again."""
    import shutil

    scratch, template = LOCALE / "xx", LOCALE / "django.pot"
    try:
        call_command(
            "makemessages", locale=["xx"], keep_pot=True, ignore_patterns=IGNORED, no_obsolete=True, verbosity=0
        )
        extracted = {key(entry) for entry in parse_po(template)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        template.unlink(missing_ok=True)
    assert len(extracted) > 1000
    for language in LANGUAGES:
        catalog = {key(entry) for entry in parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")}
        missing = sorted(extracted - catalog)
        assert missing == [], f"{len(missing)} strings missing from {language}: {missing[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_one_django_reads(language: str) -> None:
    """The .mo next to each .po matches it: a sample of entries reads back translated."""
    entries = [e for e in parse_po(LOCALE / language / "LC_MESSAGES" / "django.po") if "plural" not in e]
    code = language.lower().replace("_", "-")
    with translation.override(code):
        for entry in entries[:: max(1, len(entries) // 50)]:
            if entry.get("ctx"):
                shown = translation.pgettext(entry["ctx"], entry["id"])
            else:
                shown = translation.gettext(entry["id"])
            assert shown == entry["str"][0], (language, entry["id"])
