from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from guardian.admin import GuardedModelAdmin

from accounts.models import ApiKey, Membership, Organisation, OrganisationNameChange, User, WorkerProfile


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "pseudonym", "is_staff", "suspended_at")
    readonly_fields = ("pseudonym",)


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
