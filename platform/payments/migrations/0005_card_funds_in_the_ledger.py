"""Issue 19 point 9: the card-funded part of each organisation's balance moves from a tally
of the deposits into the ledger (``org_card_funds`` sub-accounts, ``payments.card_funds``).

Every succeeded card top-up still bound (credited minus refunded or being refunded) gets
its ``deposit:<id>:card-funds`` transfer, with the accounts' totals, so ``ledger_verify``
stays clean. Top-ups past the governed holding period are released by the first run of
``payments.jobs.card_funds_release`` (or before the organisation's next bank withdrawal),
exactly as the tally stopped counting them.
"""

from django.db import migrations
from django.db.models import F


def bind_existing_card_money(apps, schema_editor):  # type: ignore[no-untyped-def]
    Deposit = apps.get_model("payments", "Deposit")
    Account = apps.get_model("ledger", "Account")
    Transfer = apps.get_model("ledger", "Transfer")
    for deposit in Deposit.objects.filter(method="stripe", status="succeeded").order_by("id").iterator():
        amount = deposit.credited_amount - deposit.refunded_amount
        transfer_id = f"deposit:{deposit.pk}:card-funds"
        if amount <= 0 or Transfer.objects.filter(pk=transfer_id).exists():
            continue
        card, _ = Account.objects.get_or_create(
            kind="org_card_funds",
            currency=deposit.currency,
            organisation_id=deposit.organisation_id,
            user=None,
            defaults={"debits_must_not_exceed_credits": True},
        )
        contra, _ = Account.objects.get_or_create(
            kind="card_funds_contra", currency=deposit.currency, organisation=None, user=None
        )
        Transfer.objects.create(
            id=transfer_id,
            kind="posted",
            debit_account=contra,
            credit_account=card,
            amount=amount,
            currency=deposit.currency,
            code="card_funds_bound",
            memo=f"Card top-up {deposit.reference}: refundable to its card only (moved from the tally)",
        )
        Account.objects.filter(pk=card.pk).update(credits_posted=F("credits_posted") + amount)
        Account.objects.filter(pk=contra.pk).update(debits_posted=F("debits_posted") + amount)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_dispute_fees_and_card_fee"),
        ("ledger", "0005_card_funds_accounts"),
    ]

    operations = [migrations.RunPython(bind_existing_card_money, migrations.RunPython.noop)]
