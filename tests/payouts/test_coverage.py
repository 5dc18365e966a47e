"""Coverage is data: every rail's table, read together, for every ISO country; the 20
countries where most crowdworkers live each reach a local bank account or wallet."""

import pycountry
import pytest
from django.test import Client
from rest_framework.test import APIClient

from payouts.rails import RAILS, coverage_for_country
from payouts.rails.coverage import FOCUS_COUNTRIES

pytestmark = pytest.mark.django_db


def test_each_focus_country_has_a_rail_into_a_local_bank_account_or_wallet() -> None:
    assert len(FOCUS_COUNTRIES) == 20
    for country in FOCUS_COUNTRIES:
        landing = [
            (rail.name, offer.method)
            for rail in RAILS.values()
            for offer in rail.offers
            if offer.country == country and offer.method in ("bank_account", "wallet")
        ]
        assert landing, f"{country} has no rail into a local bank account or wallet"
    # A local *bank account* in the countries that only wallets reached before Wise.
    for country in ("PK", "BD", "KE", "NG"):
        assert ("wise", "bank_account") in [
            (rail.name, offer.method) for rail in RAILS.values() for offer in rail.offers if offer.country == country
        ]


def test_every_table_row_names_a_real_country_currency_and_method() -> None:
    for rail in RAILS.values():
        assert rail.offers, rail.name
        assert rail.countries == frozenset(offer.country for offer in rail.offers)
        for offer in rail.offers:
            assert pycountry.countries.get(alpha_2=offer.country) is not None, (rail.name, offer.country)
            assert offer.method in ("bank_account", "card", "wallet")
            assert offer.currency == "*" or pycountry.currencies.get(alpha_3=offer.currency) is not None, offer


def test_coverage_api_answers_every_iso_country_without_authentication(settings) -> None:
    settings.PAYPAL_CLIENT_ID = ""
    response = APIClient().get("/api/payouts/coverage/")
    assert response.status_code == 200
    rows = {row["country"]: row for row in response.json()}
    assert set(rows) == {country.alpha_2 for country in pycountry.countries}
    kenya = rows["KE"]
    assert kenya["covered"] is True
    assert kenya["methods"] == ["bank_account", "wallet"]
    assert kenya["currencies"] == ["EUR", "KES"]
    paypal = next(option for option in kenya["options"] if option["rail"] == "paypal")
    assert paypal["configured"] is False
    assert paypal["missing_settings"] == ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"]
    # A country no rail reaches says so and names the closest option.
    north_korea = rows["KP"]
    assert (north_korea["covered"], north_korea["options"]) == (False, [])
    assert "never confiscated" in north_korea["closest"]


def test_coverage_api_for_one_country_and_an_unknown_code() -> None:
    response = APIClient().get("/api/payouts/coverage/in/")
    assert response.status_code == 200
    assert {option["rail"] for option in response.json()["options"]} == {"stripe_global", "paypal"}
    refused = APIClient().get("/api/payouts/coverage/XX/")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "unknown_country"


def test_the_public_page_shows_a_country_and_the_focus_table(client: Client, settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    page = client.get("/payouts/coverage/?country=VE")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Paid in Venezuela" in text
    assert "PayPal Payouts (to your PayPal wallet)" in text
    assert text.count('<tr><th scope="row">') == 20
    fragment = client.get("/payouts/coverage/?country=PK", HTTP_HX_REQUEST="true").content.decode()
    assert "Paid in Pakistan" in fragment and "Wise (to your local bank account)" in fragment
    assert "not configured on this server" in fragment
    assert 'href="/payouts/coverage/"' in client.get("/").content.decode()


def test_registration_shows_the_chosen_countrys_rails_and_records_the_country(client: Client) -> None:
    from accounts.models import WorkerProfile

    page = client.get("/accounts/register/")
    assert 'hx-get="/payouts/coverage/"' in page.content.decode()
    refused = client.post(
        "/accounts/register/", {"username": "", "email": "k@example.org", "password": "x", "country": "KE"}
    )
    assert "Paid in Kenya" in refused.content.decode()
    done = client.post(
        "/accounts/register/",
        {"username": "wanjiru", "email": "w@example.org", "password": "a-long-pass-phrase-2026", "country": "KE"},
    )
    assert done.status_code == 302
    assert WorkerProfile.objects.get(user__username="wanjiru").country == "KE"


def test_country_coverage_lists_only_enabled_rails(settings) -> None:
    settings.PAYOUT_RAILS_ENABLED = ("sepa",)
    assert [option.rail for option in coverage_for_country("DE").options] == ["sepa"]
    assert coverage_for_country("IN").options == ()
