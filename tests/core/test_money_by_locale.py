"""Issue 25: money is shown and typed the reader's way. ``format_amount`` writes the active
language's number ("12,50 €" in Spanish), ``parse_amount(localized=True)`` reads the language's
decimal mark and thousands separators, refuses a form that could mean two amounts, and reads
back everything ``format_amount`` writes, in every language."""

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.errors import AppError
from core.money import MAX_DEPOSIT, exponent, format_amount, parse_amount, typed_text
from payouts.models import PayoutSchedule
from payouts.selectors import schedule_for

LANGUAGES = [code for code, _name in settings.LANGUAGES]
CURRENCIES = ["EUR", "USD", "INR", "BRL", "PHP", "GBP", "JPY", "KWD", "CHF"]


@pytest.fixture(autouse=True)
def _language_of_the_next_test() -> Iterator[None]:
    # A request through the test client leaves its language active in this thread.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _typed(text: str, currency: str = "EUR", **options: Any) -> int:
    return parse_amount(text, field="amount", currency=currency, maximum=10**17, minimum=0, localized=True, **options)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    language=st.sampled_from(LANGUAGES),
    currency=st.sampled_from(CURRENCIES),
    amount=st.integers(min_value=0, max_value=10**15 - 1),
    grouped=st.booleans(),
)
def test_every_amount_shown_in_every_language_reads_back_as_the_same_minor_units(
    language: str, currency: str, amount: int, grouped: bool
) -> None:
    with translation.override(language):
        shown = format_amount(amount, currency)
        assert _typed(shown, currency) == amount, shown
        assert _typed(typed_text(amount, currency), currency) == amount
        if grouped:
            # What a person copies from a spreadsheet or a bank statement in their language.
            number = Decimal(amount).scaleb(-exponent(currency))
            text = formats.number_format(number, decimal_pos=exponent(currency), use_l10n=True, force_grouping=True)
            assert _typed(text, currency) == amount, text


def test_each_language_writes_money_its_own_way() -> None:
    expected = {
        "en": "1234.50 EUR",
        "es": "1234,50\u00a0€",
        "fr": "1234,50\u00a0€",
        "de": "1234,50\u00a0€",
        "pt-br": "€\u00a01234,50",
        "hi": "€1234.50",
        "fil": "€1234.50",
    }
    for language, text in expected.items():
        with translation.override(language):
            assert format_amount(123450, "eur") == text
    with translation.override("es"):
        assert format_amount(500, "CHF") == "5,00\u00a0CHF"  # no symbol of its own: the code
        assert format_amount(500, "JPY") == "500\u00a0JPY"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "12,50", 1250),
        ("es", "12.50", 1250),  # the API's own form: a point before two digits groups nothing
        ("es", "1.234,50", 123450),
        ("es", "1.234.567", 123456700),
        ("fr", "1 234,50", 123450),
        ("fr", "1\u202f234,50\u00a0€", 123450),
        ("de", "12,50 €", 1250),
        ("pt-br", "R$ 12,50".replace("R$", "€"), 1250),
        ("hi", "12,34,567.50", 123456750),  # lakh grouping
        ("en", "1,234.50", 123450),
        ("en", "12,5", 1250),  # a comma before one digit groups nothing: the decimal comma
    ],
)
def test_a_typed_amount_is_read_the_readers_way(language: str, text: str, expected: int) -> None:
    with translation.override(language):
        assert _typed(text) == expected


@pytest.mark.parametrize(
    ("language", "text", "readings"), [("es", "1.250", ("1250", "1,25")), ("en", "1,250", ("1250", "1.25"))]
)
def test_a_form_that_could_mean_two_amounts_is_refused_naming_both(
    language: str, text: str, readings: tuple[str, str]
) -> None:
    with translation.override(language), pytest.raises(AppError) as caught:
        _typed(text)
    assert caught.value.code == "ambiguous_amount"
    assert caught.value.status_code == 400
    for reading in readings:
        assert reading in caught.value.message
    assert list(caught.value.fields or {}) == ["amount"]


@pytest.mark.parametrize("text", ["1,2,3", "12,50,1", "1.23.4", "12,50 US$", "1 2", "12,5.0"])
def test_malformed_typed_amounts_are_refused_with_the_readers_example(text: str) -> None:
    with translation.override("es"), pytest.raises(AppError) as caught:
        _typed(text)
    assert caught.value.code == "invalid_amount"
    assert "12,50" in caught.value.message


def test_machine_formats_keep_one_spelling() -> None:
    with translation.override("es"), pytest.raises(AppError) as caught:
        parse_amount("12,50", field="Reward", currency="EUR", maximum=MAX_DEPOSIT)
    assert caught.value.code == "invalid_amount"


def test_a_spanish_worker_types_12_50_on_the_payouts_page_and_sees_12_50_euros(worker: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(worker)
    response = client.post("/work/payouts/", {"schedule-frequency": "weekly", "schedule-minimum_amount": "12,50"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PayoutSchedule.objects.get(user=worker).minimum_amount == 1250
    page = client.get("/work/payouts/").content.decode()
    assert "desde 12,50\u00a0€" in page or "12,50\u00a0€" in page
    assert 'value="12,50"' in page  # the field is pre-filled the way it is typed
    assert "12.50 EUR" not in page


def test_an_ambiguous_amount_on_the_page_is_shown_next_to_the_field_and_saves_nothing(worker: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(worker)
    before = schedule_for(user=worker).minimum_amount
    response = client.post("/work/payouts/", {"schedule-frequency": "weekly", "schedule-minimum_amount": "1.250"})
    assert response.status_code == 200
    assert "1250" in response.content.decode() and "1,25" in response.content.decode()
    assert schedule_for(user=worker).minimum_amount == before
    assert not PayoutSchedule.objects.filter(user=worker).exists()


def test_a_spanish_worker_types_12_50_through_the_api(worker: Any) -> None:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="es")
    api.force_authenticate(worker)
    response = api.put("/api/payouts/schedule/", {"frequency": "daily", "minimum_amount": "12,50"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["minimum_amount"] == "12.50"  # the API answers in its one machine form
    assert PayoutSchedule.objects.get(user=worker).minimum_amount == 1250
    refused = api.put("/api/payouts/schedule/", {"frequency": "daily", "minimum_amount": "1.250"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "ambiguous_amount"
    assert PayoutSchedule.objects.get(user=worker).minimum_amount == 1250


@pytest.mark.django_db
def test_governed_rule_values_read_in_the_readers_words() -> None:
    """Issue 25: yes/no rules say yes or no, amounts are written the reader's way, and no
    internal unit (minor units, basis points) or stored 0/1 reaches the page."""
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    page = client.get("/rules/").content.decode()
    values = re.findall(r'<td class="value">(.*?)</td>', page)
    assert values and not {"True", "False", "true", "false", "0", "1"} & set(values)
    assert re.search(r'id="rule-dispatch_stratify_by_zone".*?<td class="value">(sí|no)</td>', page, re.S)
    assert re.search(r'id="rule-payout_minimum_floor".*?<td class="value">[0-9]+,[0-9]{2}\u00a0€</td>', page, re.S)
    words = re.sub(r"<[^>]+>", " ", page)  # what a reader sees, not ids and links
    assert "minor units" not in words and "bps" not in words
    assert "<td>dispatch</td>" not in page  # the rule class by its name, not its key
    rule = client.get("/rules/dispatch_stratify_by_zone/").content.decode()
    assert "Puede ser no o sí" in rule or "Puede ser sí o no" in rule
