"""``manage.py confirm_deposit``: the treasurer's shell way to credit a bank transfer."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from ledger.models import Transfer
from payments import services
from payments.selectors import organisation_balance
from tests.payments.factories import fund_by_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting(organisation, requester):  # type: ignore[no-untyped-def]
    return services.deposit_bank_start(organisation=organisation, actor=requester, amount=100_00)


def confirm(*args: str) -> str:
    out = StringIO()
    call_command("confirm_deposit", *args, stdout=out)
    return out.getvalue()


def test_confirms_and_prints_the_new_available_balance(organisation, requester, awaiting) -> None:
    fund_by_bank(organisation=organisation, actor=requester, amount=20_00)

    out = confirm("--org", organisation.slug, "--amount", "100.00", "--reference", awaiting.reference.lower())

    assert out.strip() == (
        f"Confirmed {awaiting.reference}: 100.00 EUR credited to {organisation.slug}. Available balance: 120.00 EUR"
    )
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.credited_amount, awaiting.confirmed_by) == ("confirmed", 10000, None)
    assert AuditEvent.objects.get(action="deposit.confirmed", target_id=str(awaiting.pk)).after["via"] == "command"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--amount", "12.345"), "'12.345' has more decimals than EUR allows (2)."),
        (("--amount", "twelve"), "'twelve' is not an amount; write it like 12.50."),
        (("--org", "no-such-lab"), "There is no organisation with the slug 'no-such-lab'."),
        (("--reference", "COOP-AAAA-AAAA"), "has no deposit with the reference 'COOP-AAAA-AAAA'"),
        (("--amount", "0"), "The amount must be more than zero."),
    ],
)
def test_bad_input_is_a_clear_error_with_non_zero_exit_and_nothing_changes(
    organisation, awaiting, args, message
) -> None:
    values = {"--org": organisation.slug, "--amount": "100.00", "--reference": awaiting.reference}
    values.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError) as failed:
        confirm(*[item for pair in values.items() for item in pair])
    assert message in str(failed.value)
    assert str(failed.value).endswith("nothing was changed.")
    assert failed.value.returncode == 1
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.credited_amount) == ("awaiting_transfer", 0)
    assert not Transfer.objects.exists()
    assert organisation_balance(organisation=organisation).available == 0


def test_confirming_twice_is_refused(organisation, awaiting) -> None:
    confirm("--org", organisation.slug, "--amount", "100.00", "--reference", awaiting.reference)
    with pytest.raises(CommandError, match=r"This cannot be done to this deposit now\. Its state: Confirmed"):
        confirm("--org", organisation.slug, "--amount", "100.00", "--reference", awaiting.reference)
    assert organisation_balance(organisation=organisation).available == 10000


def test_exit_status_from_a_real_process(organisation, awaiting) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            str(root / "manage.py"),
            "confirm_deposit",
            "--org",
            "x",
            "--amount",
            "12.345",
            "--reference",
            "R",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "COOP_VAR_DIR": "/tmp/coop-payments-cmd", "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert result.returncode == 1
    assert "'12.345' has more decimals than EUR allows (2)." in result.stderr
