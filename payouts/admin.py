"""Read-only views of payouts: money moves only through payouts.services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from payouts.models import ConnectedAccount, Payout, PayoutMethod, PayoutRun, SepaBatch


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "rail", "amount", "currency", "state", "created_at", "paid_at", "failed_at"]
    list_filter = ["state", "rail"]
    search_fields = ["user__username", "stripe_transfer_id", "stripe_payout_id"]
    list_select_related = ["user"]


@admin.register(PayoutMethod)
class PayoutMethodAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "rail", "display", "created_at", "retired_at"]
    list_filter = ["rail"]
    list_select_related = ["user"]


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = ["stripe_account_id", "user", "country", "payouts_enabled", "updated_at"]


@admin.register(SepaBatch)
class SepaBatchAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "state", "payment_count", "total_amount", "created_at", "sent_at", "closed_at"]


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin):
    list_display = ["key", "payouts_created", "started_at", "finished_at"]
