from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications: inbox, e-mail, reminders and alerts"

    def ready(self) -> None:
        from notifications import tracking

        tracking.connect()
