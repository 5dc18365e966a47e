"""Read-only admin views: money moves only through the services, which audit it."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from payments.models import Deposit, ReconciliationDifference, WebhookEvent, Withdrawal, WithdrawalRefund


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ["reference", "organisation", "method", "status", "amount", "credited_amount", "created_at"]
    list_filter = ["method", "status"]
    search_fields = ["reference", "stripe_payment_intent_id", "organisation__slug"]


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ["id", "organisation", "method", "status", "amount", "paid_amount", "created_at"]
    list_filter = ["method", "status"]


@admin.register(WithdrawalRefund)
class WithdrawalRefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "withdrawal", "deposit", "amount", "status", "stripe_refund_id"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["stripe_event_id", "type", "status", "attempts", "deliveries", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_event_id"]


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnlyAdmin):
    list_display = ["run", "rail", "kind", "reference", "ledger_amount", "rail_amount", "resolved_at"]
    list_filter = ["rail", "kind"]
