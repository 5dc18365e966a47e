"""``python manage.py seed_demo``: demo data for ``make run``, through the real services.

A verified requester organisation funded by a confirmed bank deposit, with a published
batch; workers, a member, a juror and a treasurer; every login printed. Running it again
changes nothing and prints the same logins.
"""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.appointments import staff_role_grant
from accounts.models import Membership, Organisation, StaffAppointment, StaffRole, User, WorkerProfile
from core.money import format_amount, platform_currency
from ledger.accounts import org_available
from ledger.selectors import balance
from payments import services as payments_services
from tasks import services as task_services

PASSWORD = "demo-password-2026"
ORG_SLUG = "demo-lab"

TEMPLATE = """<p>Is this product review positive, negative or neutral?</p>
<blockquote>${review}</blockquote>
<label><input type="radio" name="sentiment" value="positive" required> Positive</label>
<label><input type="radio" name="sentiment" value="negative"> Negative</label>
<label><input type="radio" name="sentiment" value="neutral"> Neutral</label>
<label>Anything unclear? <input type="text" name="comment"></label>
"""

INPUT_CSV = """review
"The battery lasts two days, I love it."
"Arrived broken and support never answered."
"It is a phone case. It holds the phone."
"Best purchase this year, the camera is stunning."
"Too expensive for what it does, but it works."
"""


def _user(username: str, *, staff: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, email=f"{username}@demo.coop", password=PASSWORD, is_staff=staff
        )
        WorkerProfile.objects.get_or_create(user=user)
    return user


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            self._seed()
        self._print()

    def _seed(self) -> None:
        treasurer = _user("treasurer", staff=True)
        accounts_services.treasurer_grant(user=treasurer)
        # The demo's first holders of the other staff roles (a real installation runs
        # ``manage.py staff_bootstrap`` once, then appoints by vote).
        verifier = _user("verifier")
        moderator = _user("moderator")
        staff_role_grant(user=verifier, role=StaffRole.VERIFIER, source=StaffAppointment.Source.BOOTSTRAP)
        staff_role_grant(user=moderator, role=StaffRole.MODERATOR, source=StaffAppointment.Source.BOOTSTRAP)
        requester = _user("requester")
        workers = [_user(name) for name in ("amina", "bruno", "chen", "valentina")]
        member = _user("member")
        # Three opted-in jurors with no ties to the demo requester, so a demo dispute can draw a panel.
        jurors = [_user(name) for name in ("juror", "dana", "emeka")]
        for profile_user, country in ((workers[0], "KE"), (workers[1], "BR"), (workers[2], "IN"), (workers[3], "VE")):
            accounts_services.worker_profile_update(user=profile_user, changes={"country": country})
        long_ago = timezone.now() - timedelta(days=400)
        for person, opt_in in ((member, False), *((juror, True) for juror in jurors), (workers[0], True)):
            Membership.objects.get_or_create(user=person, defaults={"joined_at": long_ago, "juror_opt_in": opt_in})

        organisation = Organisation.objects.filter(slug=ORG_SLUG).first()
        if organisation is not None:
            return
        organisation = accounts_services.organisation_create(
            owner=requester,
            legal_name="Demo Research Lab gGmbH",
            display_name="Demo Research Lab",
            country="DE",
            contact_email="lab@demo.coop",
            slug=ORG_SLUG,
        )
        organisation = accounts_services.organisation_verify(
            organisation=organisation, verified_by=verifier, legal_name="Demo Research Lab gGmbH"
        )
        deposit = payments_services.deposit_bank_start(organisation=organisation, actor=requester, amount=50_000)
        payments_services.deposit_bank_confirm(deposit=deposit, amount=50_000, actor=treasurer, via="demo")

        batch = task_services.batch_create(
            organisation=organisation,
            actor=requester,
            title="Label the sentiment of short product reviews",
            description="Read one short review and say whether it is positive, negative or neutral.",
            purpose="Training data for a public sentiment model used in a consumer-protection study.",
            data_use="Labels are published as an open data set; your pseudonym is never published.",
            content_warnings="",
            reward=25,
            assignments_per_task=2,
            estimated_minutes=1,
            time_allotted_minutes=10,
            lifetime_hours=24 * 14,
            template_html=TEMPLATE,
        )
        task_services.batch_set_input(batch=batch, actor=requester, content=INPUT_CSV, file_format="csv")
        task_services.batch_publish(batch=batch, actor=requester)

    def _print(self) -> None:
        organisation = Organisation.objects.get(slug=ORG_SLUG)
        available = balance(org_available(organisation))
        lines = [
            "",
            "Demo data is loaded. Open http://127.0.0.1:8000 and sign in as:",
            f"  requester  / {PASSWORD}   staff of '{organisation.display_name}'",
            f"  amina      / {PASSWORD}   worker (also a member, opted in as juror)",
            f"  bruno      / {PASSWORD}   worker",
            f"  chen       / {PASSWORD}   worker",
            f"  valentina  / {PASSWORD}   worker (Kenya, Brazil, India, Venezuela: amina, bruno, chen, valentina)",
            f"  member     / {PASSWORD}   co-op member",
            f"  juror      / {PASSWORD}   member opted in to jury duty (also dana, emeka)",
            f"  treasurer  / {PASSWORD}   treasurer (co-op staff)",
            f"  verifier   / {PASSWORD}   verifier (staff console at /staff/)",
            f"  moderator  / {PASSWORD}   moderator (staff console at /staff/)",
            f"Requester available balance: {format_amount(available.available, platform_currency())}",
            "",
        ]
        self.stdout.write("\n".join(lines))
