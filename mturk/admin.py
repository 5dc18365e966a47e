from django.contrib import admin

from core.admin import ReadOnlyAdmin
from mturk.models import Hit, HitType, NotificationDelivery, NotificationSetting


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
