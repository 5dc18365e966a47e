"""``python manage.py staff_bootstrap --verifier ana --treasurer ben --moderator cleo``:
appoints the first holders of the co-op's staff roles on a new installation. Refused once
anyone holds a staff role: from then on appointments and removals go through an adopted
proposal of the appointments class."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.appointments import staff_roles_bootstrap
from accounts.models import StaffRole, User
from core.errors import AppError


class Command(BaseCommand):
    help = "Appoint the first staff role holders of a new installation (refused when holders exist)."

    def add_arguments(self, parser: CommandParser) -> None:
        for role in StaffRole.values:
            parser.add_argument(f"--{role}", action="append", default=[], metavar="USERNAME", help=f"First {role}.")

    def handle(self, *args: Any, **options: Any) -> None:
        holders: list[tuple[User, str]] = []
        for role in StaffRole.values:
            for username in options[role]:
                user = User.objects.filter(username=username).first()
                if user is None:
                    raise CommandError(f"No person with the user name '{username}'.")
                holders.append((user, role))
        try:
            appointments = staff_roles_bootstrap(holders=holders)
        except AppError as error:
            raise CommandError(error.message) from None
        for appointment in appointments:
            self.stdout.write(
                f"{appointment.user.username}: {appointment.role} since {appointment.granted_at:%Y-%m-%d %H:%M}"
            )
