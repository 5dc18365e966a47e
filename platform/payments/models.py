"""Money entering and leaving the platform through the rails, and what Stripe told us.

The ledger (``ledger``) is the source of truth for balances; these rows are the
rails' side of each movement: a deposit or withdrawal with its Stripe or bank
reference, the raw webhook inbox, and the differences reconciliation found.
Each money movement here maps to exactly one ledger transfer id (see services).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Deposit(models.Model):
    """A requester's top-up, by card through Stripe or by bank transfer.

    Stripe: pending -> succeeded | failed (a failed attempt may still succeed later).
    Bank: awaiting_transfer -> confirmed by the treasurer.
    """

    class Method(models.TextChoices):
        STRIPE = "stripe"
        BANK = "bank"

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        AWAITING_TRANSFER = "awaiting_transfer"
        CONFIRMED = "confirmed"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="deposits")
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    # What the requester announced; a bank transfer credits what actually arrived.
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    credited_amount = models.BigIntegerField(default=0)
    # Shown to the requester; for a bank transfer it goes in the payment reference.
    reference = models.CharField(max_length=20, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    stripe_client_secret = models.CharField(max_length=200, blank=True)
    stripe_charge_id = models.CharField(max_length=64, blank=True, db_index=True)
    # Stripe's card fee as booked in the ledger (``deposit:<id>:stripe-fee``); null until the
    # fee job has read it from the charge's balance transaction (``stripe_fees_book_due``
    # retries until it has).
    stripe_fee = models.BigIntegerField(null=True, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    # Part of a Stripe deposit already refunded through withdrawals.
    refunded_amount = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    credited_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_deposit_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("credited_amount")),
                name="payments_deposit_refund_within_credit",
            ),
        ]

    def __str__(self) -> str:
        return f"deposit {self.reference} ({self.status})"

    @property
    def ledger_transfer_id(self) -> str:
        return f"deposit:{self.pk}"

    @property
    def refundable_amount(self) -> int:
        return self.credited_amount - self.refunded_amount if self.method == self.Method.STRIPE else 0


class Withdrawal(models.Model):
    """Unused available balance returned to the requester.

    requested -> completed | failed. The money is reserved in the ledger (a pending
    transfer available -> rail) when requested, so it cannot be spent twice while
    Stripe works; completion posts what was refunded, failure voids the rest.
    """

    class Method(models.TextChoices):
        STRIPE_REFUND = "stripe_refund"
        BANK = "bank"

    class Status(models.TextChoices):
        REQUESTED = "requested"
        COMPLETED = "completed"
        FAILED = "failed"

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="withdrawals")
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # Bank withdrawals only: where the treasurer sends the money.
    iban = models.CharField(max_length=34, blank=True)
    account_holder = models.CharField(max_length=140, blank=True)
    paid_amount = models.BigIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)
    # The caller's idempotency token ("<organisation id>:<token>"): a retry answers the first.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_withdrawal_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"withdrawal {self.pk} ({self.status})"

    @property
    def ledger_transfer_id(self) -> str:
        return f"withdrawal:{self.pk}"


class WithdrawalRefund(models.Model):
    """One Stripe refund of one deposit's PaymentIntent, as part of a withdrawal."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not yet acknowledged by Stripe
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="refunds")
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive"),
            models.UniqueConstraint(fields=["withdrawal", "deposit"], name="payments_one_refund_per_deposit"),
        ]

    @property
    def idempotency_key(self) -> str:
        return f"withdrawal:{self.withdrawal_id}:refund:{self.deposit_id}"


class WebhookEvent(models.Model):
    """The Stripe webhook inbox: each event stored once by its id, processed by a job."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        FAILED = "failed"

    stripe_event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    account = models.CharField(max_length=64, blank=True)
    # Stripe's own timestamp, for ordering questions; Stripe does not guarantee delivery order.
    event_created = models.BigIntegerField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type} ({self.status})"


class ReconciliationRun(models.Model):
    """One daily comparison of the ledger's external accounts with the rails."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stripe_transactions = models.PositiveIntegerField(default=0)
    # Net movement of each rail that day, as the rail reports it and as the ledger booked it.
    stripe_net_reported = models.BigIntegerField(default=0)
    stripe_net_booked = models.BigIntegerField(default=0)
    bank_net_confirmed = models.BigIntegerField(default=0)
    bank_net_booked = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]


class ReconciliationDifference(models.Model):
    """Something the treasurer must look at: the rails and the ledger disagree."""

    class Rail(models.TextChoices):
        STRIPE = "stripe"
        BANK = "bank"

    class Kind(models.TextChoices):
        MISSING_IN_LEDGER = "missing_in_ledger"  # the rail moved money the ledger never booked
        MISSING_AT_RAIL = "missing_at_rail"  # the ledger booked money the rail never moved
        AMOUNT_MISMATCH = "amount_mismatch"
        UNKNOWN_TRANSACTION = "unknown_transaction"  # a rail movement nobody here started

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="differences")
    rail = models.CharField(max_length=8, choices=Rail.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # The rail's id (txn_/ch_/re_) or our reference, whichever identifies the movement.
    reference = models.CharField(max_length=100)
    ledger_amount = models.BigIntegerField(null=True, blank=True)
    rail_amount = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "rail", "reference"], name="payments_one_difference_per_reference"),
        ]


class CardDispute(models.Model):
    """A card payer disputed a top-up at their bank (Stripe's ``charge.dispute.*``).

    When Stripe takes the disputed money back, the ledger books it (issue 19 point 14): the
    organisation's available balance pays what it can, the co-op reserve (up to the governed
    ``card_dispute_reserve``) the rest, never workers' earnings; what neither covers is
    ``uncovered``, for the treasurer. While a dispute is open the organisation cannot
    withdraw. A won dispute gives both parts back, exactly once.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        WON = "won"
        LOST = "lost"

    stripe_dispute_id = models.CharField(max_length=64, unique=True)
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="disputes")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="card_disputes")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    # Whether Stripe has taken the money (an inquiry, "warning_*", takes nothing yet).
    funds_withdrawn = models.BooleanField(default=False)
    organisation_debited = models.BigIntegerField(default=0)
    reserve_debited = models.BigIntegerField(default=0)
    uncovered = models.BigIntegerField(default=0)
    # Stripe's dispute fee (the ``fee`` of the dispute's balance transactions, e.g. 15.00),
    # booked like the disputed amount: the requester first, then the reserve; net of any
    # fee Stripe gave back.
    fee_organisation_debited = models.BigIntegerField(default=0)
    fee_reserve_debited = models.BigIntegerField(default=0)
    fee_uncovered = models.BigIntegerField(default=0)
    # Per Stripe balance transaction whose fee was booked: {"txn_...": {"fee", "organisation",
    # "reserve", "uncovered"}}; each is booked once, and reconciliation reads it.
    fee_bookings = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_card_dispute_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"card dispute {self.stripe_dispute_id} ({self.status})"

    @property
    def ledger_transfer_id(self) -> str:
        return f"card-dispute:{self.pk}"
