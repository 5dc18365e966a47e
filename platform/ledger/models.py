"""The double-entry ledger: accounts and append-only transfers, after TigerBeetle.

Every amount is an integer in minor units. An account keeps four running totals
(debits and credits, each pending and posted); only ``ledger.services`` and
``ledger.escrow`` change them, with ``F()`` updates in the same transaction that
inserts the transfer, so the totals can never disagree with the transfers
(``ledger.selectors.ledger_check`` recomputes them to prove it).

Balances read credit-normal: ``credits - debits``. An account flagged
``debits_must_not_exceed_credits`` can never go below zero, and the database
itself refuses the overdraft through a CHECK constraint, whatever code runs.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        ORG_AVAILABLE = "org_available", _("Requester available balance")
        ORG_ESCROW = "org_escrow", _("Requester escrow")
        WORKER_EARNINGS = "worker_earnings", _("Worker earnings")
        COOP_FEES = "coop_fees", _("Co-op fee income")
        COOP_RESERVE = "coop_reserve", _("Co-op reserve")
        COOP_JUROR_FEES = "coop_juror_fees", _("Co-op juror fees")
        EXTERNAL_STRIPE = "external_stripe", _("Stripe (money in and out)")
        EXTERNAL_BANK = "external_bank", _("Bank (money in and out)")
        EXTERNAL_PAYPAL = "external_paypal", _("PayPal (worker payouts)")
        EXTERNAL_WISE = "external_wise", _("Wise (worker payouts)")
        COOP_PAYOUT_FEES = "coop_payout_fees", _("Co-op payout service fees")
        COOP_DIVIDENDS = "coop_dividends", _("Co-op dividends decided, not yet paid")
        # The card-funded part of a requester's balance (issue 19 point 9): what card top-ups
        # credited and may still refund to their cards, until the holding period releases it.
        ORG_CARD_FUNDS = "org_card_funds", _("Requester balance bound to cards")
        CARD_FUNDS_CONTRA = "card_funds_contra", _("Card-bound balances (contra)")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    currency = models.CharField(max_length=3)
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    debits_must_not_exceed_credits = models.BooleanField(default=False)
    credits_must_not_exceed_debits = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency", "organisation"],
                condition=Q(organisation__isnull=False),
                name="ledger_one_account_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency", "user"],
                condition=Q(user__isnull=False),
                name="ledger_one_account_per_user",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(organisation__isnull=True, user__isnull=True),
                name="ledger_one_coop_account",
            ),
            models.CheckConstraint(
                condition=Q(debits_pending__gte=0, debits_posted__gte=0, credits_pending__gte=0, credits_posted__gte=0),
                name="ledger_totals_not_negative",
            ),
            # The overdraft guard: pending debits count too, so a reservation
            # can never promise money that is not there.
            models.CheckConstraint(
                condition=Q(debits_must_not_exceed_credits=False)
                | Q(debits_pending__lte=F("credits_posted") - F("debits_posted")),
                name="ledger_debits_must_not_exceed_credits",
            ),
            models.CheckConstraint(
                condition=Q(credits_must_not_exceed_debits=False)
                | Q(credits_pending__lte=F("debits_posted") - F("credits_posted")),
                name="ledger_credits_must_not_exceed_debits",
            ),
        ]

    def __str__(self) -> str:
        owner = self.organisation_id or self.user_id or "co-op"
        return f"{self.kind}:{owner}:{self.currency}"


class Transfer(models.Model):
    """One immutable movement of ``amount`` from ``debit_account`` to ``credit_account``.

    ``kind`` follows TigerBeetle's flags: a single-phase ``posted`` transfer, a
    ``pending`` one that reserves, and the ``post_pending`` / ``void_pending``
    transfer that resolves it. ``pending`` is one-to-one, so the database itself
    lets a pending transfer be resolved exactly once. On PostgreSQL a trigger
    refuses UPDATE and DELETE of these rows (migration 0002).
    """

    class Kind(models.TextChoices):
        POSTED = "posted"
        PENDING = "pending"
        POST_PENDING = "post_pending"
        VOID_PENDING = "void_pending"

    # The caller's idempotency key, e.g. "escrow:assignment:42".
    id = models.CharField(primary_key=True, max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=40)
    memo = models.CharField(max_length=200, blank=True)
    pending = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resolution", db_constraint=True
    )
    # Escrow reservations only: the part of ``amount`` that is the platform fee
    # (the rest is the reward), so a settlement can route each part.
    fee_part = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["code", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_transfer_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(fee_part__gte=0, fee_part__lte=F("amount")), name="ledger_transfer_fee_part_in_amount"
            ),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="ledger_transfer_two_accounts"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["posted", "pending"], pending__isnull=True)
                | Q(kind__in=["post_pending", "void_pending"], pending__isnull=False),
                name="ledger_transfer_resolves_iff_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id}: {self.amount} {self.currency} {self.kind}"
