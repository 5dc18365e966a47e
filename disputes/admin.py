"""Read-only views of cases for co-op staff: a case changes only through disputes.services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from disputes.models import Case, Draw, Precedent


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "state", "round", "outcome", "due_at", "created_at"]
    list_filter = ["kind", "state", "outcome"]
    raw_id_fields = ["worker", "organisation", "batch", "respondent", "parent"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "round", "purpose", "size", "created_at"]
    raw_id_fields = ["case"]


@admin.register(Precedent)
class PrecedentAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "outcome", "share_bps", "appealed", "published_at"]
    list_filter = ["kind", "outcome"]
