"""Worker payouts: where the worker is paid (methods, with history), when (schedule),
and each payout with its rail's references, plus the SEPA batch files of the treasurer.

Money is integer minor units of the platform currency. Every payout has one
pending ledger transfer ``payout:<id>`` from the worker's earnings to the rail's
external account, posted when the rail confirms the payment and voided when it
fails (see ``payouts.services``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Rail(models.TextChoices):
    STRIPE_CONNECT = "stripe_connect", _("Stripe Connect (to your bank)")
    SEPA = "sepa", _("SEPA credit transfer")
    PAYPAL = "paypal", _("PayPal Payouts (to your PayPal wallet)")
    STRIPE_GLOBAL = "stripe_global", _("Stripe Global Payouts (to your local bank or card)")
    WISE = "wise", _("Wise (to your local bank account)")


class ConnectedAccount(models.Model):
    """The worker's Stripe Connect account, as Stripe last reported it (``account.updated``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_connected_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    country = models.CharField(max_length=2)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=100, blank=True)
    # Stripe's ``created`` of the newest event applied; older deliveries change nothing
    # (Stripe does not promise delivery order).
    state_as_of = models.BigIntegerField(default=0)
    payouts_enabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({'ready' if self.payouts_enabled else 'onboarding'})"


class GlobalRecipient(models.Model):
    """The worker's Stripe v2 recipient Account (Global Payouts), as Stripe last reported it.
    Stripe's hosted form holds the bank account or card; we keep the capability states."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="global_recipient")
    stripe_account_id = models.CharField(max_length=64, unique=True)
    country = models.CharField(max_length=2)
    # Stripe's capability status: active | pending | restricted | rejected | unsupported | "".
    bank_status = models.CharField(max_length=20, blank=True)
    card_status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} ({'ready' if self.ready else 'onboarding'})"

    @property
    def ready(self) -> bool:
        return "active" in (self.bank_status, self.card_status)


class PayoutMethod(models.Model):
    """A destination the worker chose. Rows are never edited: choosing another method
    retires the current one and adds a row, so the rows are the method's history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_methods")
    rail = models.CharField(max_length=20, choices=Rail.choices)
    # The worker's country when they chose it: rails are enabled per country.
    country = models.CharField(max_length=2)
    # Normalised by the rail: SEPA {"iban", "bic", "name"}; Stripe {"account"}; PayPal {"email"}.
    destination = models.JSONField(default=dict)
    # Safe to show anywhere, e.g. "DE89 **** **** **** **30 00".
    display = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # A new destination is not paid before this (the governed payout_destination_hold_hours
    # after it was chosen): a person whose account was taken over has time to cancel.
    first_payout_not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(retired_at__isnull=True), name="payouts_one_current_method"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rail}: {self.display}"


class PayoutSchedule(models.Model):
    """When the worker is paid automatically. A worker without a row is paid weekly
    from the governed floor (``payouts.selectors.schedule_for``)."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly"
        DAILY = "daily"
        ON_REQUEST = "on_request", _("Only when I ask")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_schedule")
    frequency = models.CharField(max_length=12, choices=Frequency.choices, default=Frequency.WEEKLY)
    # Automatic payouts wait until the balance reaches this (minor units).
    minimum_amount = models.BigIntegerField()
    # The version of the rule ``payout_minimum_floor`` the minimum was checked against.
    floor_rule_version_id = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(minimum_amount__gt=0), name="payouts_schedule_minimum_positive"),
        ]


class PayoutRun(models.Model):
    """One scheduled run (``daily:2026-11-22``, ``weekly:2026-W47``): a worker is paid
    at most once per run, whatever how often the job runs."""

    key = models.CharField(max_length=40, unique=True)
    frequency = models.CharField(max_length=12)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    payouts_created = models.PositiveIntegerField(default=0)
    # {rule key: {"version_id", "value"}} in force when the run started.
    rule_versions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class SepaBatch(models.Model):
    """A pain.001 file of SEPA credit transfers from the co-op's bank account.

    open (built, downloadable) -> sent (the treasurer handed it to the bank) ->
    closed (every payment in it was marked paid or failed).
    """

    class State(models.TextChoices):
        OPEN = "open"
        SENT = "sent"
        CLOSED = "closed"

    # The file's MsgId: unique per file, at most 35 characters.
    message_id = models.CharField(max_length=35, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
    currency = models.CharField(max_length=3)
    payment_count = models.PositiveIntegerField()
    total_amount = models.BigIntegerField()
    execution_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"SEPA batch {self.message_id} ({self.state})"


class FeeBearer(models.TextChoices):
    COOP = "coop", _("the co-op")
    WORKER = "worker", _("the worker")


class PayoutQuote(models.Model):
    """The rail's price for a payout the worker is about to confirm: fee (platform
    currency), rate, what arrives in the destination currency, and until when the
    rail honours it. A payout made from it copies these figures."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_quotes")
    method = models.ForeignKey(PayoutMethod, on_delete=models.PROTECT, related_name="quotes")
    rail = models.CharField(max_length=20, choices=Rail.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    fee = models.BigIntegerField(default=0)
    fee_bearer = models.CharField(max_length=8, choices=FeeBearer.choices)
    # {rule key: {"version_id", "value"}}: the payout_fee_bearer rule in force.
    rule_versions = models.JSONField(default=dict, blank=True)
    rate = models.CharField(max_length=40)
    destination_amount = models.BigIntegerField()
    destination_currency = models.CharField(max_length=3)
    expires_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payouts_quote_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="payouts_quote_fee_not_negative"),
        ]


class Payout(models.Model):
    """Money leaving the worker's earnings for their chosen destination.

    created -> submitted -> paid | failed (see ``payouts.states``). The destination
    is copied from the method when the payout is created, so a later change of
    method never redirects money already on its way.
    """

    class State(models.TextChoices):
        CREATED = "created"
        SUBMITTED = "submitted"
        PAID = "paid"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    method = models.ForeignKey(PayoutMethod, on_delete=models.PROTECT, related_name="payouts")
    rail = models.CharField(max_length=20, choices=Rail.choices)
    destination = models.JSONField(default=dict)
    display = models.CharField(max_length=80)
    # Not sent to the rail before this: the destination is new (see PayoutMethod); the
    # worker can cancel the payout meanwhile (services.payout_cancel_held).
    held_until = models.DateTimeField(null=True, blank=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATED, db_index=True)
    # A scheduled run, or None when the worker asked for this payout.
    run = models.ForeignKey(PayoutRun, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    # {rule key: {"version_id", "value"}} the payout was made under (payout_minimum_floor).
    rule_versions = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(SepaBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    stripe_transfer_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    stripe_payout_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    stripe_reversal_id = models.CharField(max_length=64, blank=True)
    # The rail's own id once submitted: Stripe OutboundPayment, PayPal payout batch.
    rail_reference = models.CharField(max_length=100, null=True, blank=True)
    # The quote the payout was made under (None: the rail pays in the platform currency at no fee).
    quote = models.OneToOneField(PayoutQuote, null=True, blank=True, on_delete=models.PROTECT, related_name="payout")
    quote_reference = models.CharField(max_length=100, blank=True)
    fee = models.BigIntegerField(default=0)
    fee_bearer = models.CharField(max_length=8, choices=FeeBearer.choices, default=FeeBearer.COOP)
    rate = models.CharField(max_length=40, blank=True)
    destination_amount = models.BigIntegerField(null=True, blank=True)
    destination_currency = models.CharField(max_length=3, blank=True)
    quote_expires_at = models.DateTimeField(null=True, blank=True)
    # What the rail reports arrived (destination currency minor units), set when paid.
    arrived_amount = models.BigIntegerField(null=True, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    # Why the money came back, told to the worker in their language when shown: which
    # sentence of ``payouts.failures`` says it, and the rail's or bank's own words in it.
    failure_reason = models.CharField(max_length=40, blank=True)
    failure_detail = models.CharField(max_length=200, blank=True)
    # The same sentence in English, as audited; the only text of rows written before reasons.
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payouts_payout_amount_positive"),
            models.UniqueConstraint(
                fields=["user", "run"], condition=Q(run__isnull=False), name="payouts_one_payout_per_run"
            ),
            models.UniqueConstraint(
                fields=["rail", "rail_reference"],
                condition=Q(rail_reference__isnull=False),
                name="payouts_one_payout_per_rail_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.state})"

    @property
    def ledger_pending_id(self) -> str:
        return f"payout:{self.pk}"

    @property
    def end_to_end_id(self) -> str:
        """The SEPA EndToEndId the bank reports back (at most 35 characters)."""
        return f"COOP-PAYOUT-{self.pk}"

    @property
    def failure_text(self) -> str:
        """Why it failed, in the active language; a row written before reasons shows its
        stored English sentence as it was."""
        from payouts.failures import failure_sentence

        return failure_sentence(self.failure_reason, self.failure_detail) or self.failure_message


class ProviderWebhookEvent(models.Model):
    """A verified webhook from a payout provider other than Stripe (PayPal), stored once
    by the provider's event id: repeats only count themselves."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        FAILED = "failed"

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    deliveries = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payouts_provider_event_once"),
        ]
