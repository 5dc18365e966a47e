from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications: inbox, e-mail, reminders and alerts"

    def ready(self) -> None:
        from accounts import hooks
        from notifications import personal_data, services, tracking  # noqa: F401  (personal_data registers)

        tracking.connect()
        hooks.verification_listener_register(services.verification_notify)
        hooks.notifier_register(person=services.person_notify, address=services.address_notify)
