from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance: rules, proposals and votes"

    def ready(self) -> None:
        # The platform core reads rules in force (core.rules); their rows live here.
        from core.rules import rule_source_register
        from governance.selectors import GovernanceRuleSource

        rule_source_register(GovernanceRuleSource())
        # Its deadlines get reminders (notifications.reminders).
        from governance import notices
        from notifications import reminders

        reminders.register("governance", notices.deadlines)

        from governance import personal_data  # noqa: F401  (registers what it holds about a person)
