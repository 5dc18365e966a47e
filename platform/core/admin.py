"""Read-only admin: staff may look at records that change only through services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent, JobItemFailure, JobRun


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """For models written only by their app's services (ledger, cases, votes, ...)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id")
    list_filter = ("action",)


@admin.register(JobItemFailure)
class JobItemFailureAdmin(ReadOnlyAdmin):
    """Items a periodic job keeps failing on; parked ones wait for staff to release them."""

    list_display = ("job", "item_key", "attempts", "parked_at", "next_attempt_at", "last_error")
    list_filter = ("job", ("parked_at", admin.EmptyFieldListFilter))
    actions = ["release"]

    @admin.action(description="Try the selected items again at the next run")
    def release(self, request: HttpRequest, queryset: Any) -> None:
        from core.runner import job_item_release

        released = job_item_release(failure_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{released} item(s) will be tried again at the next run.")


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "last_run_at", "processed", "failed", "oldest_undone_due_at")
