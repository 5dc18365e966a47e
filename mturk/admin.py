from django.contrib import admin

from mturk.models import Hit, HitType, NotificationDelivery, NotificationSetting


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """MTurk rows change only through the endpoint's services."""

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(HitType)
class HitTypeAdmin(ReadOnlyAdmin):
    list_display = ("hit_type_id", "organisation", "title", "reward", "created_at")


@admin.register(Hit)
class HitAdmin(ReadOnlyAdmin):
    list_display = ("hit_id", "organisation", "hit_type", "question_kind", "reviewing", "disposed_at")


@admin.register(NotificationSetting)
class NotificationSettingAdmin(ReadOnlyAdmin):
    list_display = ("hit_type", "destination", "active", "updated_at")


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_key", "organisation", "destination", "status", "attempts", "created_at")
    list_filter = ("status",)
