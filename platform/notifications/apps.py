from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications: inbox, e-mail, reminders and alerts"

    def ready(self) -> None:
        from accounts import hooks
        from notifications import services, tracking

        tracking.connect()
        hooks.verification_listener_register(services.verification_notify)
