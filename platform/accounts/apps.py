from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts, organisations and membership"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from accounts.reauthentication import record_sign_in

        user_logged_in.connect(record_sign_in, dispatch_uid="accounts.record_sign_in")
