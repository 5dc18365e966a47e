"""Issue 19 point 6: every amount from outside goes through core.money.parse_amount; malformed
or out-of-range amounts are 400 naming the field and the limit, never 500, and change nothing."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.errors import AppError
from core.money import MAX_BONUS, MAX_DEPOSIT, MAX_REWARD, MAX_WITHDRAWAL, parse_amount
from ledger.models import Transfer
from ledger.selectors import ledger_check
from payments.models import Deposit, Withdrawal
from tasks import services as task_services
from tasks.models import Batch, Bonus
from tests.factories import UserFactory
from tests.ledger.factories import fund
from tests.tasks.factories import available, batch_fields, earnings, published_batch


@pytest.fixture
def requester_api(requester: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(requester)
    return client


BAD_TEXT = ["1e3", "1E3", "NaN", "nan", "Infinity", "-1", "+1", "1,5", "1 000", "0x10", "1.2.3", "", " ", "١٢"]


@pytest.mark.parametrize("text", BAD_TEXT)
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_amount(text, field="amount", currency="EUR", maximum=MAX_DEPOSIT)
    assert caught.value.code == "invalid_amount"
    assert caught.value.fields and list(caught.value.fields) == ["amount"]


@pytest.mark.parametrize("value", [2**63, str(2**63), "9" * 16, 10**20, MAX_DEPOSIT + 1])
def test_huge_amounts_are_refused_with_the_field_and_the_limit(value: Any) -> None:
    with pytest.raises(AppError) as caught:
        parse_amount(value, field="amount", currency="EUR", maximum=MAX_DEPOSIT, minor_units=True)
    assert caught.value.code in ("amount_out_of_range", "invalid_amount")
    if caught.value.code == "amount_out_of_range":
        assert caught.value.message == "amount must be between 0.01 EUR and 1000000.00 EUR."
        assert caught.value.details == {"field": "amount", "minimum": "0.01", "maximum": "1000000.00"}


@pytest.mark.parametrize("value", [True, False, 1.5, 1.0, None, [1], {"a": 1}])
def test_non_text_non_integer_values_are_refused(value: Any) -> None:
    with pytest.raises(AppError) as caught:
        parse_amount(value, field="reward", currency="EUR", maximum=MAX_REWARD)
    assert caught.value.code == "invalid_amount"


@pytest.mark.parametrize(
    ("text", "expected"), [("12.50", 1250), ("12.5", 1250), ("12", 1200), ("0.01", 1), (" 3.00 ", 300), ("7", 700)]
)
def test_well_formed_amounts_parse_to_minor_units(text: str, expected: int) -> None:
    assert parse_amount(text, field="amount", currency="EUR", maximum=MAX_DEPOSIT) == expected


def test_the_upper_bound_itself_is_accepted() -> None:
    assert parse_amount("1000000.00", field="amount", currency="EUR", maximum=MAX_DEPOSIT) == MAX_DEPOSIT
    assert parse_amount(MAX_BONUS, field="amount", currency="EUR", maximum=MAX_BONUS, minor_units=True) == MAX_BONUS


# -- through the API ---------------------------------------------------------------------

# Anything a JSON client can send in an amount field, weighted towards the nasty cases.
json_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    st.sampled_from([*BAD_TEXT, str(2**63), str(2**64), "1e308", "99999999999999999999.99", "0", "0.00"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


def _snapshot(organisation: Any) -> tuple[int, ...]:
    return (
        Deposit.objects.count(),
        Withdrawal.objects.count(),
        Bonus.objects.count(),
        Batch.objects.count(),
        Transfer.objects.count(),
        available(organisation),
    )


def _accepted(value: Any, *, maximum: int, minor_units: bool) -> bool:
    try:
        parse_amount(value, field="amount", currency="EUR", maximum=maximum, minor_units=minor_units, localized=True)
    except AppError:
        return False
    return True


@pytest.mark.django_db
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_api_amount_fields_answer_400_on_bad_numbers_and_change_nothing(
    value: Any, requester_api: APIClient, organisation: Any
) -> None:
    """Deposit, withdrawal, bonus and batch reward: a value the parser refuses is a 400 naming
    the field; a value it accepts may still be refused by the service (funds), but never 500."""
    batch = published_batch(organisation)
    worker = UserFactory()
    work = task_services.assignment_submit(
        worker=worker,
        assignment=task_services.assignment_accept(worker=worker, batch=batch),
        answers={"answer": "yes"},
    )
    before = _snapshot(organisation)
    calls = [
        (f"/api/organisations/{organisation.slug}/deposits/", {"method": "bank", "amount": value}, MAX_DEPOSIT, False),
        (
            f"/api/organisations/{organisation.slug}/withdrawals/",
            {"method": "bank", "amount": value, "iban": "DE89370400440532013000", "account_holder": "A"},
            MAX_WITHDRAWAL,
            False,
        ),
        (f"/api/batches/{batch.pk}/submissions/{work.pk}/bonus/", {"amount": value, "reason": "r"}, MAX_BONUS, True),
        (f"/api/organisations/{organisation.slug}/batches/", batch_fields(reward=value), MAX_REWARD, True),
    ]
    for url, body, maximum, minor_units in calls:
        response = requester_api.post(url, body, format="json")
        assert response.status_code < 500, (url, value, response.content)
        if not _accepted(value, maximum=maximum, minor_units=minor_units):
            assert response.status_code == 400, (url, value, response.content)
            error = response.json()["error"]
            field = "reward" if "batches/" in url and "submissions" not in url else "amount"
            assert field in error["fields"], error
            assert error["code"] in ("invalid_amount", "ambiguous_amount", "amount_out_of_range", "invalid"), error
    if not any(_accepted(value, maximum=m, minor_units=u) for _, _, m, u in calls):
        assert _snapshot(organisation) == before
    assert ledger_check() == []


@pytest.mark.django_db
@pytest.mark.parametrize("value", [2**63, str(2**63), "1e3", MAX_BONUS + 1])
def test_a_bonus_of_2_pow_63_is_a_400_naming_the_limit_and_pays_nothing(
    value: Any, requester_api: APIClient, organisation: Any
) -> None:
    batch = published_batch(organisation)
    worker = UserFactory()
    work = task_services.assignment_submit(
        worker=worker,
        assignment=task_services.assignment_accept(worker=worker, batch=batch),
        answers={"answer": "yes"},
    )
    fund(organisation, 1000)
    before = _snapshot(organisation)
    response = requester_api.post(
        f"/api/batches/{batch.pk}/submissions/{work.pk}/bonus/", {"amount": value, "reason": "r"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    if value == MAX_BONUS + 1:
        assert error["code"] == "amount_out_of_range"
        assert error["message"] == "amount must be between 0.01 EUR and 10000.00 EUR."
    assert list(error["fields"]) == ["amount"]
    assert _snapshot(organisation) == before and earnings(worker) == 0
    assert ledger_check() == []


@pytest.mark.django_db
def test_a_deposit_of_1e3_is_refused_and_nothing_is_created(requester_api: APIClient, organisation: Any) -> None:
    response = requester_api.post(
        f"/api/organisations/{organisation.slug}/deposits/", {"method": "bank", "amount": "1e3"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_amount",
        "message": "amount: '1e3' is not an amount; write it like 12.50.",
        "fields": {"amount": ["Not an amount; write it like 12.50."]},
        "details": {"field": "amount"},
    }
    assert Deposit.objects.count() == 0 and Transfer.objects.count() == 0


@pytest.mark.django_db
def test_a_withdrawal_of_2_pow_63_is_a_400_and_reserves_nothing(requester_api: APIClient, organisation: Any) -> None:
    fund(organisation, 5000)
    before = _snapshot(organisation)
    response = requester_api.post(
        f"/api/organisations/{organisation.slug}/withdrawals/",
        {"method": "bank", "amount": str(2**63), "iban": "DE89370400440532013000", "account_holder": "A"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"amount": ["Not an amount; write it like 12.50."]}
    assert _snapshot(organisation) == before


@pytest.mark.django_db
def test_a_batch_reward_of_2_pow_63_is_a_400(requester_api: APIClient, organisation: Any) -> None:
    response = requester_api.post(
        f"/api/organisations/{organisation.slug}/batches/", batch_fields(reward=2**63), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "reward": ["Not an amount; send a whole number of minor units (cents), like 1250."]
    }
    assert Batch.objects.count() == 0
