"""Read-only views of the ledger: money moves only through ledger.services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger.models import Account, Transfer


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
