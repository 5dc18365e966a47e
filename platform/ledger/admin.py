"""Read-only views of the ledger: money moves only through ledger.services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from ledger.models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "organisation",
        "user",
        "currency",
        "credits_posted",
        "debits_posted",
        "debits_pending",
    ]
    list_filter = ["kind", "currency"]
    search_fields = ["organisation__slug", "user__username"]
    list_select_related = ["organisation", "user"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "code", "debit_account", "credit_account", "amount", "currency", "created_at"]
    list_filter = ["kind", "code"]
    search_fields = ["id", "memo"]
    raw_id_fields = ["debit_account", "credit_account", "pending"]
    date_hierarchy = "created_at"
