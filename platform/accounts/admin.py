from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from guardian.admin import GuardedModelAdmin

from accounts.authentication import forget_tokens
from accounts.models import ApiKey, Membership, Organisation, OrganisationNameChange, User, WorkerProfile


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "pseudonym", "is_staff", "suspended_at")
    readonly_fields = ("pseudonym",)

    # An edit here (deactivating, suspending, staff rights) or a deletion takes effect on
    # the API at once: the person's cached tokens are dropped.
    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_tokens(user=obj)

    def delete_model(self, request: Any, obj: User) -> None:
        forget_tokens(user=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: QuerySet[User]) -> None:
        for user in queryset:
            forget_tokens(user=user)
        super().delete_queryset(request, queryset)


@admin.register(Organisation)
class OrganisationAdmin(GuardedModelAdmin):
    list_display = ("slug", "display_name", "legal_name", "country", "verified_at")
    # Names change only through organisation_rename, which keeps the public history.
    readonly_fields = ("display_name", "staff_group", "verified_at", "verified_by")


@admin.register(OrganisationNameChange)
class OrganisationNameChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("organisation", "old_name", "new_name", "changed_at")

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("access_key_id", "organisation", "created_at", "revoked_at")
    exclude = ("secret_hash", "secret_encrypted")
    readonly_fields = ("access_key_id", "organisation", "created_by", "created_at", "last_used_at")


admin.site.register(Membership)
admin.site.register(WorkerProfile)
