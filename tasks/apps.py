from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from notifications import reminders
        from tasks import notices

        reminders.register("tasks", notices.deadlines)
        reminders.register("tasks-data-reports", notices.data_report_deadlines)

        from tasks import personal_data  # noqa: F401  (registers what it holds about a person)
