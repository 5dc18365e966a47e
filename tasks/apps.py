from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from notifications import reminders
        from tasks import notices

        reminders.register("tasks", notices.deadlines)
