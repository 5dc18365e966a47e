"""Read-only views of cases for co-op staff: a case changes only through disputes.services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from disputes.models import Case, Draw, Precedent


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
