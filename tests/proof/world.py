"""One small world with every kind of object the routes take, made through the services,
and the people who stand in every role towards it. The authorization matrix and the
fuzzer fill path parameters from it."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import (
    ApiKey,
    Organisation,
    OrganisationVerification,
    User,
    VerificationDocument,
    WebAuthnDevice,
    WorkerProfile,
)
from accounts.services import api_key_create, treasurer_grant
from accounts.teams import invitation_create
from accounts.verification import verification_submit
from core.models import JobItemFailure
from disputes import services as dispute_services
from disputes.models import Case, Juror
from frontend.jobs import batch_input_upload
from frontend.operations import OperationState, operation_start, operation_update
from governance.models import Dividend, Proposal, RuleClass
from payments import services as payment_services
from payments.models import Deposit, ReconciliationDifference, ReconciliationRun, Withdrawal
from payouts import services as payout_services
from payouts.models import Payout, SepaBatch
from tasks import services as task_services
from tasks.models import Assignment, Batch, Qualification, TaskTemplate
from tests.disputes.factories import jurors
from tests.factories import MemberFactory, OrganisationFactory, UserFactory, signed_in_now, staff_member
from tests.governance.factories import rule_change, to_voting
from tests.ledger.factories import fund
from tests.payouts.factories import VALID_IBAN, destination_settled, earn
from tests.tasks.factories import published_batch
from webhooks.services import webhook_endpoint_create

ROLES = (
    "anonymous",
    "worker",
    "other_worker",
    "requester",
    "other_requester",
    "juror",
    "member",
    "treasurer",
    "verifier",
    "moderator",
)


@dataclass
class World:
    organisation: Organisation
    other_organisation: Organisation
    people: dict[str, User | None]
    batch: Batch
    submitted: Assignment
    rejected: Assignment
    case: Case
    proposal: Proposal
    qualification: Qualification
    deposit: Deposit
    credited_deposit: Deposit  # confirmed by the treasurer: it has a receipt
    api_key: ApiKey
    api_key_header: str
    payout: Payout
    sepa_batch: SepaBatch
    withdrawal: Withdrawal
    difference_id: int
    accepted: Assignment
    operation_id: str
    webhook_id: int
    job_failure_id: int
    verification: OrganisationVerification
    document: VerificationDocument
    invitation_token: str
    # The notifications app: the worker's first inbox entry, saved search and conversation.
    notification_id: int = 0
    saved_search_id: int = 0
    thread_id: int = 0
    # A patronage dividend decided earlier (issue 28).
    dividend_id: int = 0
    # A template in the organisation's own library (issue 24).
    template_id: int = 0
    # The worker's passkey (issue 19).
    passkey_id: int = 0

    def owner(self, organisation: Organisation | None = None) -> User:
        return (organisation or self.organisation).staff.get(role="owner").user


def world_build() -> World:
    organisation = OrganisationFactory()
    other_organisation = OrganisationFactory()
    requester = organisation.staff.get(role="owner").user
    other_requester = other_organisation.staff.get(role="owner").user
    worker = UserFactory()
    other_worker = UserFactory()

    batch = published_batch(organisation, assignments_per_task=2)
    submitted = task_services.assignment_accept(worker=worker, batch=batch)
    submitted = task_services.assignment_submit(
        worker=worker, assignment=submitted, answers={"answer": "yes", "comment": ""}
    )
    other = task_services.assignment_accept(worker=other_worker, batch=batch)
    task_services.assignment_submit(worker=other_worker, assignment=other, answers={"answer": "no", "comment": ""})
    rejected = task_services.assignment_accept(worker=worker, batch=batch)
    rejected = task_services.assignment_submit(
        worker=worker, assignment=rejected, answers={"answer": "no", "comment": ""}
    )
    rejected = task_services.assignment_reject(
        actor=requester, assignment=rejected, reason="did_not_follow_instructions", text="The answer is wrong."
    )

    # The panel is drawn from the members opted in now; the member role joins afterwards
    # without opting in, so it is never on the panel.
    jurors(4)
    case = dispute_services.dispute_open(worker=worker, assignment_id=rejected.pk, statement="My answer was right.")
    case = dispute_services.case_respond(case=case, actor=requester, action="contest", text="It was random.")
    juror = Juror.objects.filter(case=case).order_by("id").first()
    assert juror is not None, "the disputes app drew no panel"
    member = MemberFactory(membership__juror_opt_in=False)

    proposal = rule_change(member)
    # Voting is open (its discussion ended just now), so ballots reach the voter-roll check.
    days = RuleClass.objects.get(pk=proposal.rule_class_id).discussion_days
    proposal = to_voting(proposal, start=timezone.now() - timedelta(days=days, seconds=1))

    # A second batch, so the worker also holds a slot still being worked on.
    second_batch = published_batch(organisation, assignments_per_task=1)
    accepted = task_services.assignment_accept(worker=worker, batch=second_batch)

    qualification = task_services.qualification_create(
        organisation=organisation, actor=requester, name="Careful labeller", description="Labels well."
    )

    deposit = payment_services.deposit_bank_start(organisation=organisation, actor=requester, amount=10_000)
    new_key = api_key_create(organisation=organisation, created_by=requester, label="scripts")

    treasurer = UserFactory()
    treasurer_grant(user=treasurer)
    credited_deposit = payment_services.deposit_bank_confirm(
        deposit=payment_services.deposit_bank_start(organisation=organisation, actor=requester, amount=1_00),
        amount=1_00,
        actor=treasurer,
    )
    earn(worker, 5_000)
    WorkerProfile.objects.filter(user=worker).update(country="DE")
    payout_services.payout_method_set(
        user=worker,
        fresh_sign_in=signed_in_now(worker),
        rail="sepa",
        details={"iban": VALID_IBAN, "account_holder": "Ana Worker"},
    )
    destination_settled(worker)
    payout = payout_services.payout_request(user=worker)
    sepa_batch = payout_services.sepa_batch_create(actor=treasurer)
    fund(organisation, 10_000)
    withdrawal = payment_services.withdrawal_request(
        organisation=organisation,
        actor=requester,
        amount=100,
        method="bank",
        iban=VALID_IBAN,
        account_holder="Lab GmbH",
    )
    # A reconciliation difference is written by the nightly job from a rail statement;
    # the treasurer's routes only read and resolve the row, so it is written directly.
    run = ReconciliationRun.objects.create(day=date.today())
    difference = ReconciliationDifference.objects.create(
        run=run, rail="bank", kind="missing_at_rail", reference="REF-1", ledger_amount=100, note="Not on the statement."
    )
    # A finished export with its file (the job writes the same record when it ends).
    operation_id = operation_start(
        owner=requester, label="Export", job=batch_input_upload, result_url=f"/org/{organisation.slug}/"
    )
    stored = default_storage.save("exports/results.csv", ContentFile(b"Input.animal,Answer.answer\ncat,yes\n"))
    operation_update(operation_id, state=OperationState.DONE, file=stored, filename="results.csv")

    webhook, _ = webhook_endpoint_create(
        organisation=organisation, actor=requester, url="https://hooks.example.org/coop", events=["submitted"]
    )
    now = timezone.now()
    job_failure = JobItemFailure.objects.create(
        job="disputes.jobs.run_deadlines",
        item_key=str(case.pk),
        attempts=8,
        last_error="OperationalError: deadlock detected",
        first_failed_at=now,
        last_failed_at=now,
        next_attempt_at=now,
        parked_at=now,
    )
    from notifications.models import Notification
    from tasks import messages, searches

    notification_id = Notification.objects.filter(user=worker).order_by("id").values_list("id", flat=True).first()
    saved_search = searches.saved_search_create(worker=worker, name="Everything")
    thread_id = messages.message_to_requester(worker=worker, assignment_id=submitted.pk, body="A question.").thread_id
    # A third, unverified organisation waiting in the verification queue with a document.
    applicant = OrganisationFactory(verified=False)
    verification = verification_submit(
        organisation=applicant,
        actor=applicant.staff.get(role="owner").user,
        legal_name="Applicant Research GmbH",
        country="DE",
        registration_number="HRB 12345",
        address="Hauptstrasse 1, Berlin",
        responsible_person="Dr. A. Applicant",
        documents=[SimpleUploadedFile("register.pdf", b"%PDF-1.4 register extract")],
    )
    document = verification.documents.get()
    verifier = staff_member("verifier")
    moderator = staff_member("moderator")
    # The other worker is invited to the requester's team (the link's token).
    _invitation, invitation_token = invitation_create(
        organisation=organisation, actor=requester, email=other_worker.email, role="reviewer"
    )
    # A dividend the members decided for an earlier month. Its rows are written directly: the
    # matrix needs one to read, and the vote-to-payout path has its own tests (tests/governance).
    dividend = Dividend.objects.create(
        proposal=Proposal.objects.create(
            kind=Proposal.Kind.DIVIDEND,
            state=Proposal.State.IN_EFFECT,
            title="Share out July's surplus",
            body="We earned more than we spent.",
            author=member,
            rule_class=RuleClass.objects.get(key="economic"),
            dividend_period_start=date(2026, 7, 1),
            dividend_period_end=date(2026, 7, 31),
            dividend_amount=0,
        ),
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        currency="EUR",
        fees_earned=0,
        rail_fees=0,
        juror_pay=0,
        reserve_bps=2000,
        reserve=0,
        surplus=0,
        amount=0,
        bonuses_count=True,
        total_patronage=0,
    )

    return World(
        organisation=organisation,
        other_organisation=other_organisation,
        people={
            "anonymous": None,
            "worker": worker,
            "other_worker": other_worker,
            "requester": requester,
            "other_requester": other_requester,
            "juror": juror.user,
            "member": member,
            "treasurer": treasurer,
            "verifier": verifier,
            "moderator": moderator,
        },
        batch=batch,
        submitted=submitted,
        rejected=rejected,
        case=case,
        proposal=proposal,
        qualification=qualification,
        deposit=deposit,
        credited_deposit=credited_deposit,
        api_key=new_key.key,
        api_key_header=f"ApiKey {new_key.key.access_key_id}:{new_key.secret}",
        payout=payout,
        sepa_batch=sepa_batch,
        withdrawal=withdrawal,
        difference_id=difference.pk,
        accepted=accepted,
        operation_id=operation_id,
        webhook_id=webhook.pk,
        job_failure_id=job_failure.pk,
        notification_id=notification_id or 0,
        saved_search_id=saved_search.pk,
        thread_id=thread_id,
        dividend_id=dividend.pk,
        passkey_id=WebAuthnDevice.objects.create(
            user=worker, name="Phone", confirmed=True, credential_id="cred-world", public_key=b"key"
        ).pk,
        template_id=TaskTemplate.objects.create(
            organisation=organisation, name="Sentiment", template_html="<p>${text}</p>", created_by=requester
        ).pk,
        verification=verification,
        document=document,
        invitation_token=invitation_token,
    )
