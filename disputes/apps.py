from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"

    def ready(self) -> None:
        # The marketplace asks its questions through tasks.hooks; tasks never imports disputes.
        from disputes.selectors import batch_held_by_case, organisation_publish_blocked, rejection_is_held
        from disputes.services import case_rejection_withdraw
        from tasks import hooks

        hooks.publish_blocker_register(organisation_publish_blocked)
        hooks.rejection_hold_register(rejection_is_held)
        hooks.rejection_withdrawal_register(case_rejection_withdraw)
        hooks.batch_hold_register(batch_held_by_case)
        # Its deadlines get reminders (notifications.reminders).
        from disputes import notices
        from notifications import reminders

        reminders.register("disputes", notices.deadlines)

        from disputes import personal_data  # noqa: F401  (registers what it holds about a person)
