"""Payout methods (with history), schedules, and the rail registry: bad input gets a
clear error and changes nothing."""

import pytest

from core.errors import AppError
from core.models import AuditEvent
from payouts import rails, services
from payouts.models import PayoutMethod, PayoutSchedule
from payouts.rails.paypal import payout_batch_body
from payouts.selectors import payout_methods_for_worker, schedule_for
from tests.factories import signed_in_now
from tests.payouts.factories import VALID_IBAN, VALID_IBAN_2, sepa_worker, worker_in

pytestmark = pytest.mark.django_db


def test_sepa_method_is_normalised_with_a_derived_bic_and_masked() -> None:
    user = worker_in("DE")
    method = services.payout_method_set(
        user=user,
        fresh_sign_in=signed_in_now(user),
        rail="sepa",
        details={"iban": "de89 3704 0044 0532 0130 00", "account_holder": "  Ana   Worker "},
    )
    assert method.destination == {"iban": VALID_IBAN, "bic": "COBADEFFXXX", "name": "Ana Worker"}
    assert method.display == "DE89 **** 3000 (Ana Worker)"
    assert method.country == "DE"
    assert AuditEvent.objects.filter(action="payout_method.chosen", target_id=str(method.pk)).count() == 1


def test_changing_the_method_keeps_the_history() -> None:
    user = sepa_worker()
    first = PayoutMethod.objects.get(user=user)
    same = services.payout_method_set(
        user=user,
        fresh_sign_in=signed_in_now(user),
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Ana Worker"},
    )
    assert same.pk == first.pk  # choosing the current method again changes nothing
    second = services.payout_method_set(
        user=user,
        fresh_sign_in=signed_in_now(user),
        rail="sepa",
        details={"iban": VALID_IBAN_2, "account_holder": "Ana Worker"},
    )
    history = list(payout_methods_for_worker(user=user))
    assert [m.pk for m in history] == [second.pk, first.pk]
    assert history[0].retired_at is None
    assert history[1].retired_at is not None
    assert history[1].destination["iban"] == VALID_IBAN  # never edited


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"iban": "DE89370400440532013001", "account_holder": "Ana"}, "iban"),  # checksum
        ({"iban": "DE8937040044", "account_holder": "Ana"}, "iban"),  # length
        ({"iban": "", "account_holder": "Ana"}, "iban"),
        ({"iban": "BR1800360305000010009795493C1", "account_holder": "Ana"}, "iban"),  # outside SEPA
        ({"iban": VALID_IBAN, "account_holder": ""}, "account_holder"),
        ({"iban": VALID_IBAN, "account_holder": "Ana", "bic": "NOTABIC"}, "bic"),
    ],
)
def test_invalid_sepa_details_are_refused_and_nothing_changes(details, field) -> None:
    user = sepa_worker()
    before = list(PayoutMethod.objects.values_list("id", "retired_at", "destination"))
    audits = AuditEvent.objects.count()
    with pytest.raises(AppError) as error:
        services.payout_method_set(user=user, fresh_sign_in=signed_in_now(user), rail="sepa", details=details)
    assert error.value.code == "invalid_destination"
    assert list(error.value.fields) == [field]
    assert error.value.message
    assert list(PayoutMethod.objects.values_list("id", "retired_at", "destination")) == before
    assert AuditEvent.objects.count() == audits


def test_a_rail_not_enabled_for_the_country_is_refused_with_the_alternatives(fake_stripe) -> None:
    kenyan = worker_in("KE")
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=kenyan,
            fresh_sign_in=signed_in_now(kenyan),
            rail="sepa",
            details={"iban": VALID_IBAN, "account_holder": "Ana"},
        )
    assert error.value.code == "rail_not_available"
    assert "Kenya" in error.value.message  # named, not coded
    with pytest.raises(AppError) as error:
        services.stripe_onboarding_start(
            user=kenyan, fresh_sign_in=signed_in_now(kenyan), return_url="https://a.test", refresh_url="https://a.test"
        )
    assert error.value.code == "rail_not_available"
    assert not fake_stripe.requests  # Stripe was never asked
    no_country = worker_in("")
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=no_country,
            fresh_sign_in=signed_in_now(no_country),
            rail="sepa",
            details={"iban": VALID_IBAN, "account_holder": "A"},
        )
    assert error.value.code == "country_required"
    assert not PayoutMethod.objects.exists()


def test_paypal_is_offered_in_india_but_refused_until_configured(settings) -> None:
    indian = worker_in("IN")
    assert [rail.name for rail in rails.rails_for_country("IN")] == ["stripe_global", "paypal"]
    settings.PAYPAL_CLIENT_ID = ""
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=indian, fresh_sign_in=signed_in_now(indian), rail="paypal", details={"email": "ana@example.org"}
        )
    assert error.value.code == "rail_not_configured"
    assert error.value.details == {"settings": ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"]}
    assert not PayoutMethod.objects.exists()

    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET, settings.PAYPAL_WEBHOOK_ID = "id", "secret", "WH-1"
    method = services.payout_method_set(
        user=indian, fresh_sign_in=signed_in_now(indian), rail="paypal", details={"email": "Ana@Example.org"}
    )
    assert method.destination == {"email": "ana@example.org"}
    with pytest.raises(AppError) as error:
        services.payout_method_set(
            user=indian, fresh_sign_in=signed_in_now(indian), rail="paypal", details={"email": "not-an-address"}
        )
    assert error.value.code == "invalid_destination"


def test_paypal_batch_body_has_a_deterministic_sender_batch_id(settings) -> None:
    from payouts.models import Payout

    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET, settings.PAYPAL_WEBHOOK_ID = "id", "secret", "WH-1"
    user = worker_in("IN")
    method = services.payout_method_set(
        user=user, fresh_sign_in=signed_in_now(user), rail="paypal", details={"email": "ana@example.org"}
    )
    payout = Payout(pk=7, user=user, method=method, rail="paypal", destination=method.destination, amount=12_50)
    payout.currency = "EUR"
    body = payout_batch_body(payouts=[payout])
    assert body["sender_batch_header"]["sender_batch_id"] == "coop-payout-7"
    assert body["items"] == [
        {
            "recipient_type": "EMAIL",
            "receiver": "ana@example.org",
            "amount": {"value": "12.50", "currency": "EUR"},
            "sender_item_id": "payout:7",
            "note": "Co-op payout 7",
        }
    ]


def test_unknown_rail_is_refused() -> None:
    user = worker_in("DE")
    with pytest.raises(AppError) as error:
        services.payout_method_set(user=user, fresh_sign_in=signed_in_now(user), rail="gift_card", details={})
    assert error.value.code == "unknown_rail"
    assert not PayoutMethod.objects.exists()


def test_schedule_defaults_to_weekly_at_the_floor_and_records_the_rule_version() -> None:
    user = worker_in("DE")
    default = schedule_for(user=user)
    assert (default.frequency, default.minimum_amount, default.floor, default.is_default) == ("weekly", 500, 500, True)
    schedule = services.payout_schedule_set(user=user, frequency="daily", minimum_amount=25_00)
    assert (schedule.frequency, schedule.minimum_amount) == ("daily", 25_00)
    assert schedule.floor_rule_version_id == default.floor_rule_version_id
    assert AuditEvent.objects.filter(action="payout_schedule.set").count() == 1


def test_a_minimum_below_the_floor_is_refused_and_nothing_changes() -> None:
    user = worker_in("DE")
    services.payout_schedule_set(user=user, frequency="daily", minimum_amount=25_00)
    with pytest.raises(AppError) as error:
        services.payout_schedule_set(user=user, frequency="weekly", minimum_amount=499)
    assert error.value.code == "minimum_below_floor"
    assert "5.00 EUR" in error.value.message
    assert list(error.value.fields) == ["minimum_amount"]
    schedule = PayoutSchedule.objects.get(user=user)
    assert (schedule.frequency, schedule.minimum_amount) == ("daily", 25_00)
    with pytest.raises(AppError) as error:
        services.payout_schedule_set(user=user, frequency="hourly", minimum_amount=10_00)
    assert error.value.code == "invalid"
    assert PayoutSchedule.objects.get(user=user).frequency == "daily"
