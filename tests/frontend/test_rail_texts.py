"""The payout rails' own words (name, arrival time, fee, set-up state) and the country names
read in the reader's language on the public coverage page and on the worker's payout page."""

import pytest
from django.test import Client, TestCase
from django.utils import translation

from core.errors import AppError
from notifications.services import notification_settings_set
from payouts import services
from payouts.jobs import run_weekly
from payouts.models import Payout
from payouts.rails.coverage import all_countries, country_name
from payouts.rails.sepa import SepaRail
from tests.fakes.stripe_api import FakeStripe
from tests.fakes.wise_api import FakeWise
from tests.payouts.factories import earn, sepa_worker, stripe_worker, treasurer

pytestmark = pytest.mark.django_db


def test_the_coverage_page_shows_wise_in_spanish_with_the_country_named_in_spanish(
    client: Client, fake_wise: FakeWise
) -> None:
    html = client.get("/payouts/coverage/?country=KE", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Pagos en Kenia" in html
    row = html[html.index('<tr data-rail="wise">') :]
    row = row[: row.index("</tr>")]
    for text in (
        "Wise (a tu cuenta bancaria local)",
        "cuenta bancaria",
        "en el mismo día o hasta 2 días hábiles",
        "Comisión de transferencia de Wise, que ves antes de confirmar",
        "disponible",
    ):
        assert text in row
    # The country list and the focus table name countries in Spanish too, in Spanish order.
    assert '<option value="DE">Alemania</option>' in html
    assert '<a href="?country=DE">Alemania</a>' in html
    assert "same day to 2 business days" not in html and "Germany" not in html


def test_the_coverage_page_in_hindi_translates_every_rail_and_the_no_rail_answer(client: Client) -> None:
    html = client.get("/payouts/coverage/?country=IN", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert "भारत" in html
    for text in (
        "PayPal Payouts (आपके PayPal वॉलेट में)",
        "कुछ ही मिनटों में आपके PayPal बैलेंस में",
        "PayPal की 2% भुगतान फ़ीस",
        "1-7 कार्यदिवस (देश के अनुसार)",
        "Stripe की भुगतान और मुद्रा-रूपांतरण फ़ीस, पुष्टि करने से पहले बताई जाती है",
    ):
        assert text in html
    assert "business days" not in html and "shown before you confirm" not in html
    # The htmx part for a country no rail reaches.
    nowhere = client.get("/payouts/coverage/?country=KP", HTTP_ACCEPT_LANGUAGE="hi", HTTP_HX_REQUEST="true")
    text = nowhere.content.decode()
    assert "इस देश तक अभी कोई भुगतान सेवा नहीं पहुँचती।" in text
    assert "कोरिया, लोकतांत्रिक जनवादी गणराज्य" in text and "No payout service" not in text


def test_the_payout_page_in_spanish_shows_each_rail_and_the_workers_own_set_up(client: Client) -> None:
    worker = sepa_worker(country="DE")
    client.force_login(worker)
    html = client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    table = html[html.index('id="payout-rails"') :]
    table = table[: table.index("</table>")]
    sepa = table[table.index('data-rail="sepa"') :]
    sepa = sepa[: sepa.index("</tr>")]
    for text in (
        "cuenta bancaria",
        "1-2 días hábiles",
        "Sin comisión: el banco de la cooperativa envía las transferencias SEPA gratis",
        "verificado: listo para cobrar",
    ):
        assert text in sepa
    assert "en minutos, a tu saldo de PayPal" in table and "billetera" in table
    assert "business days" not in table and "verified" not in table


def test_the_payout_page_in_hindi_says_what_stripe_still_needs(client: Client, fake_stripe: FakeStripe) -> None:
    worker = stripe_worker(fake_stripe, country="DE", onboarded=False)
    client.force_login(worker)
    html = client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    row = html[html.index('data-rail="stripe_connect"') :]
    row = row[: row.index("</tr>")]
    assert "Stripe Connect (आपके बैंक में)" in row
    assert "2-5 कार्यदिवस" in row
    assert "Stripe Connect की भुगतान फ़ीस, जिसे सहकारी चुकाती है" in row
    assert "Stripe का पंजीकरण (बैंक विवरण और पहचान) पूरा करें, ताकि Stripe आपको भुगतान कर सके।" in row
    assert "सेट अप नहीं" in html  # the rails this worker has not chosen
    assert "Finish Stripe" not in html and "not set up" not in html


def test_country_names_follow_the_active_language_and_sort_by_letter() -> None:
    with translation.override("fr"):
        assert country_name("eg") == "Égypte"
        names = [name for _code, name in all_countries()]
        # Accents sort with their letter: Égypte between Danemark and Fidji, not after Zimbabwe.
        assert names.index("Danemark") < names.index("Égypte") < names.index("Fidji")
    with translation.override("en"):
        assert country_name("EG") == "Egypt"
    assert country_name("XX") == "XX"


def _history_state(html: str) -> str:
    table = html[html.index('id="payout-history"') :]
    return table[: table.index("</table>")]


def test_a_payout_the_bank_returned_says_why_in_french_and_an_old_row_keeps_its_words(client: Client) -> None:
    worker = sepa_worker(iban="FR1420041010050500013M02606", name="Jo Dupont", country="FR")
    earn(worker, 56_78)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run_weekly()
    payout = Payout.objects.get(user=worker)
    cashier = treasurer()
    services.sepa_batch_mark_sent(batch_id=payout.batch_id, actor=cashier)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.sepa_payment_mark_failed(payout_id=payout.pk, actor=cashier, reason="compte clos")
    payout.refresh_from_db()
    # Stored: the sentence's code and the bank's words; the English sentence for the audit trail.
    assert (payout.failure_reason, payout.failure_detail) == ("sepa_bank_returned", "compte clos")
    assert payout.failure_message.startswith("The bank returned the transfer: compte clos.")

    client.force_login(worker)
    html = _history_state(client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert (
        "La banque a renvoyé le virement : compte clos. Vérifiez votre IBAN et votre nom ; "
        "l&#x27;argent est de retour sur votre solde."
    ) in html
    assert "The bank returned" not in html
    # The notice in the inbox says it in French too, for a worker who chose French.
    notification_settings_set(user=worker, language="fr", time_zone="Europe/Paris")
    inbox = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "La banque a renvoyé le virement : compte clos." in inbox and "The bank returned" not in inbox

    # A payout that failed before reasons were stored shows its stored sentence as it was.
    Payout.objects.filter(pk=payout.pk).update(failure_reason="", failure_detail="", failure_message="Old words.")
    html = _history_state(client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "Old words." in html


def test_a_wrong_sepa_account_is_refused_in_the_workers_language() -> None:
    rail = SepaRail()
    with translation.override("es"), pytest.raises(AppError) as refused:
        rail.validate_destination(country="DE", details={"iban": "", "account_holder": "Ana"})
    assert refused.value.message == "Escribe el IBAN de la cuenta en la que quieres cobrar."
    assert refused.value.fields == {"iban": ["Obligatorio."]}
    with translation.override("de"), pytest.raises(AppError) as outside:
        rail.validate_destination(
            country="DE", details={"iban": "BR1800360305000010009795493C1", "account_holder": "A"}
        )
    assert outside.value.message == (
        "Die IBAN gehört zu einer Bank in Brasilien, außerhalb des SEPA-Raums; wähle einen anderen Auszahlungsdienst."
    )
    with translation.override("hi"), pytest.raises(AppError) as long_name:
        rail.validate_destination(country="DE", details={"iban": "DE89370400440532013000", "account_holder": "x" * 71})
    assert long_name.value.message == "खाताधारक का नाम SEPA के लिए बहुत लंबा है।"


def test_the_paypal_fee_cap_is_an_amount_in_the_readers_format(client: Client) -> None:
    client.force_login(sepa_worker(country="DE"))
    spanish = client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "(como máximo 20,00\u00a0€)" in spanish and "20.00" not in spanish
    hindi = client.get("/work/payouts/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert "(अधिकतम €20.00)" in hindi


def test_a_payout_method_not_serving_the_workers_country_names_the_country() -> None:
    from accounts.models import WorkerProfile

    worker = sepa_worker(country="DE")
    earn(worker, 50_00)
    WorkerProfile.objects.filter(user=worker).update(country="KE")  # moved to Kenya: SEPA does not pay there
    with translation.override("es"), pytest.raises(AppError) as refused:
        services.payout_request(user=worker, amount=20_00)
    assert refused.value.code == "country_not_supported"
    assert "Kenia" in refused.value.message and "KE" not in refused.value.message
    assert refused.value.details == {"country": "KE"}  # programs still get the code
