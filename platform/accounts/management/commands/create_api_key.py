"""``python manage.py create_api_key --org SLUG``: prints a new key pair as two lines,
ready for an environment file or boto3."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import Organisation, OrganisationStaff, User


class Command(BaseCommand):
    help = "Create an API key pair for an organisation and print it (the secret is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--user", help="Staff user the key acts as (default: the organisation's first owner).")
        parser.add_argument("--label", default="created from the command line")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug '{options['org']}'.")
        staff = organisation.staff.select_related("user").order_by("-role", "added_at")
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None or not staff.filter(user=user).exists():
                raise CommandError(f"'{options['user']}' is not on the staff of '{organisation.slug}'.")
        else:
            first = staff.filter(role=OrganisationStaff.Role.OWNER).first() or staff.first()
            if first is None:
                raise CommandError(f"'{organisation.slug}' has no staff to own the key.")
            user = first.user
        created = services.api_key_create(organisation=organisation, created_by=user, label=options["label"])
        self.stdout.write(f"AWS_ACCESS_KEY_ID={created.key.access_key_id}")
        self.stdout.write(f"AWS_SECRET_ACCESS_KEY={created.secret}")
