from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"

    def ready(self) -> None:
        from payouts import personal_data  # noqa: F401  (registers what it holds about a person)
