"""Workers in Kenya, Nigeria, Bangladesh and Pakistan set up Wise on the payout page: the
form asks exactly what Wise needs for an account in their country, in words they know,
a wrong value is refused next to its field (nothing saved, nothing sent to Wise), and a
Kenyan worker sets up Wise and sees the estimate in headless Chromium, against the fake."""

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from frontend.forms import WISE_FIELD_WORDS
from payouts.models import PayoutMethod
from payouts.rails.wise import FIELDS
from tests.fakes.wise_api import FakeWise
from tests.frontend.conftest import nav
from tests.payouts.factories import destination_settled, earn, worker_in

pytestmark = pytest.mark.django_db

GOOD = {
    "KE": {"account_holder": "Amina Wanjiru", "bank_code": "01", "account_number": "1234567890"},
    "NG": {"account_holder": "Chinedu Okafor", "bank_code": "044", "account_number": "0123456789"},
    "BD": {"account_holder": "Rahim Uddin", "bank_code": "BRAC", "branch_code": "0601", "account_number": "1501202"},
    "PK": {"account_holder": "Ayesha Khan", "iban": "PK36SCBL0000001123456702"},
}


COPY_AGAIN = "copy it again from your bank statement or banking app."
ODD_ACCOUNT_NUMBER = "An account number has only letters and digits; check it and enter it again."
SHORT_NUBAN = "An account number in Nigeria (NUBAN) has 10 digits; this one has 5 characters."


def _wise_inputs(html: str) -> list[str]:
    return re.findall(r'<input type="text" name="wise-([a-z_]+)"', html)


def _field_errors(html: str, name: str) -> list[str]:
    found = re.search(rf'<ul class="errorlist" id="id_wise-{name}_error">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_every_country_wise_pays_has_words_for_each_of_its_fields() -> None:
    assert {country: set(words) for country, words in WISE_FIELD_WORDS.items()} == {
        country: set(names) for country, names in FIELDS.items()
    }


@pytest.mark.parametrize(
    ("country", "inputs", "labels"),
    [
        ("KE", ["account_holder", "bank_code", "account_number"], ["Bank code", "Account number"]),
        ("NG", ["account_holder", "bank_code", "account_number"], ["Bank code", "Account number"]),
        ("BD", ["account_holder", "bank_code", "branch_code", "account_number"], ["Branch code"]),
        ("PK", ["account_holder", "iban"], ["IBAN"]),
    ],
)
def test_the_wise_form_asks_what_the_country_needs_and_saves_it(
    client: Client, fake_wise: FakeWise, country: str, inputs: list[str], labels: list[str]
) -> None:
    worker = worker_in(country)
    client.force_login(worker)
    html = client.get("/work/payouts/").content.decode()
    assert _wise_inputs(html) == inputs
    for label in ["Name of the account holder", *labels]:
        assert f">{label}</label>" in html
    response = client.post("/work/payouts/", {f"wise-{k}": v for k, v in GOOD[country].items()})
    assert response.status_code == 302
    method = PayoutMethod.objects.get(user=worker, retired_at__isnull=True)
    [recipient] = fake_wise.recipients.values()
    assert method.destination["recipient"] == str(recipient["id"])
    sent = {k: v for k, v in recipient["details"].items() if k != "legalType"}
    wire = {"iban": "iban", "bank_code": "bankCode", "branch_code": "branchCode", "account_number": "accountNumber"}
    assert sent == {wire[k]: v for k, v in GOOD[country].items() if k != "account_holder"}


@pytest.mark.parametrize(
    ("country", "field", "value", "message"),
    [
        ("KE", "bank_code", "", "This field is required."),
        (
            "KE",
            "account_number",
            "12-34",
            "An account number has only letters and digits; check it and enter it again.",
        ),
        (
            "NG",
            "account_number",
            "12345",
            "An account number in Nigeria (NUBAN) has 10 digits; this one has 5 characters.",
        ),
        ("BD", "branch_code", "06/01", "A branch code has only letters and digits; check it and enter it again."),
        (
            "PK",
            "iban",
            "PK36SCBL0000001123456703",
            "This IBAN has a mistake in it (its check digits do not match); " + COPY_AGAIN,
        ),
        (
            "PK",
            "iban",
            "PK36SCBL00000011234567",
            "This IBAN has 22 characters, which is not the length of an IBAN; " + COPY_AGAIN,
        ),
        ("PK", "iban", "DE89370400440532013000", "This IBAN is of a bank outside PK; enter your account in PK."),
    ],
)
def test_a_wrong_value_is_refused_next_to_its_field(
    client: Client, fake_wise: FakeWise, country: str, field: str, value: str, message: str
) -> None:
    worker = worker_in(country)
    client.force_login(worker)
    details = {**GOOD[country], field: value}
    response = client.post("/work/payouts/", {f"wise-{k}": v for k, v in details.items()})
    assert response.status_code == 200
    html = response.content.decode()
    assert _field_errors(html, field) == [message.replace("'", "&#x27;")]
    assert _wise_inputs(html) == ["account_holder", *FIELDS[country]]
    assert not PayoutMethod.objects.filter(user=worker).exists()
    assert fake_wise.recipients == {}


def test_the_refusal_is_in_the_workers_language(client: Client, fake_wise: FakeWise) -> None:
    worker = worker_in("NG")
    client.force_login(worker)
    client.post("/language/", {"language": "fr", "next": "/work/payouts/"})
    details = {**GOOD["NG"], "account_number": "12345"}
    html = client.post("/work/payouts/", {f"wise-{k}": v for k, v in details.items()}).content.decode()
    with translation.override("fr"):
        expected = translation.gettext(
            "An account number in Nigeria (NUBAN) has 10 digits; this one has %(count)s characters."
        ) % {"count": 5}
        label = translation.gettext("Bank code")
    assert expected != "An account number in Nigeria (NUBAN) has 10 digits; this one has 5 characters."
    assert _field_errors(html, "account_number") == [expected.replace("'", "&#x27;")]
    assert f">{label}</label>" in html


@pytest.mark.browser
def test_a_kenyan_worker_sets_up_wise_and_sees_the_estimate(
    open_page: Any, fake_wise: FakeWise, screenshot: Any
) -> None:
    worker = worker_in("KE")
    earn(worker, 40_00)
    page = open_page(worker)
    nav(page, "Payouts")
    form = page.locator("form", has=page.locator("#wise-save"))
    assert [i.get_attribute("name") for i in form.locator("input[type=text]").all()] == [
        "wise-account_holder",
        "wise-bank_code",
        "wise-account_number",
    ]
    form.get_by_label("Name of the account holder").fill("Amina Wanjiru")
    form.get_by_label("Bank code").fill("01")
    form.get_by_label("Account number").fill("12 34-56")
    form.get_by_role("button", name="Save bank account with Wise").click()
    error = page.locator("#id_wise-account_number_error")
    assert error.inner_text() == "An account number has only letters and digits; check it and enter it again."
    assert fake_wise.recipients == {}
    form = page.locator("form", has=page.locator("#wise-save"))
    form.get_by_label("Account number").fill("1234 567 890")
    form.get_by_role("button", name="Save bank account with Wise").click()
    assert "Bank account saved with Wise" in page.locator(".messages").inner_text()
    assert page.locator("#payout-method").inner_text() == "KE bank …7890 (Amina Wanjiru)"
    [recipient] = fake_wise.recipients.values()
    assert (recipient["type"], recipient["details"]["accountNumber"]) == ("kenya_local", "1234567890")
    destination_settled(worker)
    page.reload()
    page.get_by_role("button", name="Pay out my balance: see the estimate").click()
    # 40.00 EUR reaches the worker whole at 140.10 KES per euro; Wise's fee (0.71) is on top.
    assert page.locator("#quote-amount").inner_text() == "40.00 EUR"
    assert page.locator("#quote-fee").inner_text() == "0.71 EUR, paid by the co-op"
    assert page.locator("#quote-destination").inner_text() == "5604.00 KES"
    [*_, wise_quote] = fake_wise.quotes.values()
    assert (wise_quote["sourceAmount"], wise_quote["targetAmount"]) == (40.71, 5604.0)
    screenshot(page, "wise-estimate-KE")
