"""Read-only admin views: staff can look, but every change goes through the services
(an admin edit would skip escrow, the transition table and the audit log)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from tasks.models import Assignment, Batch, Bonus, FairPayReview, Qualification, RequesterRating


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "title", "organisation", "status", "reward", "assignments_per_task", "published_at",
        "fair_pay_failures", "fair_pay_retry_at",
    ]  # fmt: skip
    # Staff see batches whose fair-pay review keeps failing (the error is on the batch).
    list_filter = ["status", ("fair_pay_retry_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "organisation__slug"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "batch", "task_id", "status", "worker", "accepted_at", "submitted_at"]
    list_filter = ["status"]
    raw_id_fields = ["batch", "task", "worker"]


@admin.register(Bonus)
class BonusAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "kind", "amount", "paid", "created_at"]


@admin.register(FairPayReview)
class FairPayReviewAdmin(ReadOnlyAdmin):
    list_display = ["batch", "median_hourly_pay", "floor_hourly", "top_up_per_assignment", "top_ups_owed"]


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "organisation"]


@admin.register(RequesterRating)
class RequesterRatingAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "pay_fairness", "communication", "review_speed", "updated_at"]
