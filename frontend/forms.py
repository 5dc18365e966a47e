"""Forms of the pages. They only shape input (types, required, plain-words labels);
every business rule is checked by the owning app's service, whose refusals are put
next to the fields by ``pages.add_app_error``."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.errors import AppError
from core.labels import label as label_of
from core.labels import rule_name
from core.money import (
    MAX_BONUS,
    MAX_DEPOSIT,
    MAX_PAYOUT_MINIMUM,
    MAX_REWARD,
    parse_amount,
    platform_currency,
)
from notifications.reading import reading_choice
from payouts.rails.wise import FIELDS as WISE_FIELDS
from tasks.models import QualificationRequirement
from tasks.states import REJECTION_REASONS


class PageForm(forms.Form):
    """Labels read as plain words ("Title", not "Title:"), the same on every page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MoneyField(forms.CharField):
    """An amount typed in major units (``12.50``), cleaned to integer minor units by
    ``core.money.parse_amount``, the one parser, within ``maximum`` (minor units)."""

    def __init__(self, *, maximum: int = MAX_DEPOSIT, minimum: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        self.maximum = maximum
        self.minimum = minimum
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if text in (None, ""):
            return None
        label = str(self.label or _("amount"))
        try:
            return parse_amount(
                text,
                field=label,
                currency=platform_currency(),
                maximum=self.maximum,
                minimum=self.minimum,
                localized=True,
            )
        except AppError as error:
            # Shown next to the field, so the field's name need not lead the message.
            raise forms.ValidationError(error.message.removeprefix(f"{label}: ")) from None


# --- worker -------------------------------------------------------------------------------------

FEED_ORDER_CHOICES = [
    ("-hourly_pay", _("Best hourly pay first")),
    ("newest", _("Newest first")),
    ("-reward", _("Highest reward first")),
    ("minutes", _("Shortest first")),
    ("available", _("Most slots open")),
]


class FeedFilterForm(PageForm):
    ordering = forms.ChoiceField(label=_("Sort by"), choices=FEED_ORDER_CHOICES, required=False)
    min_hourly_pay = MoneyField(label=_("Paying at least (per hour)"), required=False, help_text=_("For example 15.00"))
    max_minutes = forms.IntegerField(label=_("At most (minutes)"), required=False, min_value=1)
    keywords = forms.CharField(
        label=_("Keywords (all must appear in the title, description or tags)"),
        required=False,
        max_length=200,
    )
    tags = forms.CharField(label=_("Tags (separated by commas)"), required=False, max_length=400)
    requester = forms.CharField(label=_("Only this requester (its short name)"), required=False, max_length=60)


class ProfileForm(PageForm):
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, help_text=_("Two letters, for example KE or VE. Optional.")
    )
    languages = forms.CharField(
        label=_("Languages"), required=False, help_text=_("Codes separated by commas, for example en, es. Optional.")
    )

    def clean_languages(self) -> list[str]:
        text = self.cleaned_data["languages"] or ""
        return [part.strip() for part in text.split(",") if part.strip()]


# No score is preset (issue 25.4): the empty first choice is what an untouched form sends,
# and the field's own required message names the score still missing.
RATING_CHOICES = [("", _("Choose a score")), *((str(n), str(n)) for n in range(5, 0, -1))]


def _score_field(label: Any, missing: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=RATING_CHOICES, coerce=int, empty_value=None, error_messages={"required": missing}
    )


class RatingForm(PageForm):
    pay_fairness = _score_field(_("Fair pay (5 = very fair)"), _("Choose a score from 1 to 5 for fair pay."))
    communication = _score_field(_("Communication"), _("Choose a score from 1 to 5 for communication."))
    review_speed = _score_field(_("Review speed"), _("Choose a score from 1 to 5 for review speed."))
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=forms.Textarea)


# --- requester ----------------------------------------------------------------------------------


class RenameForm(PageForm):
    display_name = forms.CharField(
        label=_("Public display name"), max_length=120, help_text=_("Every earlier name stays visible to workers.")
    )


class OrganisationLanguageForm(PageForm):
    language = forms.ChoiceField(
        label=_("Language of the API's answers to your keys"),
        choices=[("", _("The calling program's language (its Accept-Language header)")), *settings.LANGUAGES],
        required=False,
        help_text=_("Refusals and errors your programs receive are written in it."),
    )


class ApiKeyForm(PageForm):
    label = forms.CharField(label=_("Label (what the key is for)"), max_length=80, required=False)
    scopes = forms.MultipleChoiceField(
        label=_("What the key may do"),
        choices=[
            ("publish", _("Publish: batches, HITs, qualifications")),
            ("review", _("Review: read and decide submitted work, bonuses")),
            ("funds", _("Funds: deposits and withdrawals")),
        ],
        initial=["publish", "review", "funds"],
        widget=forms.CheckboxSelectMultiple,
    )


class DepositForm(PageForm):
    amount = MoneyField(label=_("Amount"), help_text=_("In the platform currency, for example 250.00"))
    method = forms.ChoiceField(
        label=_("How you pay"),
        choices=[("bank", _("Bank transfer (with a reference code)")), ("card", _("Card (Stripe)"))],
        widget=forms.RadioSelect,
        initial="bank",
    )

    def __init__(self, *args: Any, card_available: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not card_available:
            cast(forms.ChoiceField, self.fields["method"]).choices = [
                ("bank", _("Bank transfer (with a reference code)"))
            ]


class BatchForm(PageForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Instructions"), widget=forms.Textarea)
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea,
        help_text=_("What the work is for. Workers read this before accepting."),
    )
    data_use = forms.CharField(
        label=_("How the data will be used"), widget=forms.Textarea, help_text=_("Who sees the answers and for what.")
    )
    reuse_beyond_purpose = forms.BooleanField(
        label=_("The data may be reused beyond this purpose"),
        required=False,
        help_text=_("Each worker can then refuse that for their own answers; your exports say so per answer."),
    )
    content_warnings = forms.CharField(
        label=_("Content warnings"), required=False, help_text=_("Anything distressing workers should know in advance.")
    )
    keywords = forms.CharField(label=_("Keywords"), required=False, max_length=400)
    reward = MoneyField(label=_("Reward per assignment"), maximum=MAX_REWARD, help_text=_("For example 0.50"))
    assignments_per_task = forms.IntegerField(label=_("Workers per task"), min_value=1, initial=1)
    estimated_minutes = forms.IntegerField(
        label=_("Estimated minutes per assignment"),
        min_value=1,
        help_text=_("Checked against the minimum hourly wage."),
    )
    time_allotted_minutes = forms.IntegerField(label=_("Time allotted (minutes)"), min_value=1)
    lifetime_hours = forms.IntegerField(label=_("Open for (hours)"), min_value=1, initial=72)
    template_html = forms.CharField(
        label=_("Task template (HTML)"),
        widget=forms.Textarea(attrs={"class": "code", "spellcheck": "false"}),
        help_text=_("A form with named fields; ${column} is filled from each input row."),
    )
    input_file = forms.FileField(
        label=_("Input rows (CSV or JSON)"),
        required=False,
        help_text=_("One row per task; the header names the columns."),
    )
    locale_countries = forms.CharField(
        label=_("Only workers in (optional)"), required=False, help_text=_("Two-letter codes separated by commas.")
    )
    locale_reason = forms.CharField(label=_("Why the location restriction"), required=False)
    control_threshold_percent = forms.DecimalField(
        label=_("Control threshold (%, optional)"),
        required=False,
        help_text=_(
            "Input rows with a column named _expected_ followed by an answer field's name (for example "
            "_expected_label) are controls. Work of a worker whose control accuracy is under this share may be "
            "rejected (the worker is told on the batch card and can dispute)."
        ),
    )
    control_min_answered = forms.IntegerField(
        label=_("Checks answered before the threshold applies"), initial=3, required=False
    )

    def control_threshold_bps(self) -> int | None:
        percent = self.cleaned_data.get("control_threshold_percent")
        return None if percent is None else int(percent * 100)

    def requirements(self) -> list[dict[str, Any]]:
        countries = [c.strip() for c in (self.cleaned_data.get("locale_countries") or "").split(",") if c.strip()]
        if not countries:
            return []
        return [
            {
                "kind": QualificationRequirement.Kind.LOCALE,
                "countries": countries,
                "reason": self.cleaned_data.get("locale_reason", ""),
            }
        ]


class InputUploadForm(PageForm):
    input_file = forms.FileField(label=_("Input rows (CSV or JSON)"))


class RejectForm(PageForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=list(REJECTION_REASONS.items()))
    text = forms.CharField(
        label=_("Explanation for the worker"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("They can dispute it."),
    )


class BonusForm(PageForm):
    amount = MoneyField(label=_("Bonus"), maximum=MAX_BONUS)
    reason = forms.CharField(label=_("Why"), max_length=500)


class FeedbackForm(PageForm):
    feedback = forms.CharField(label=_("Feedback to the worker (optional)"), required=False, max_length=1000)


# --- member -------------------------------------------------------------------------------------


class ProposalForm(PageForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("rule_change", _("Change a rule's value")),
            ("policy", _("A policy text")),
            ("appointment", _("Appoint or remove a staff member")),
            ("dividend", _("Share out a period's surplus as a patronage dividend")),
        ],
        widget=forms.RadioSelect,
        initial="rule_change",
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Why (the case for it)"), widget=forms.Textarea)
    rule_key = forms.ChoiceField(label=_("Rule"), required=False, choices=[])
    proposed_value = forms.CharField(
        label=_("Proposed value"),
        required=False,
        help_text=_("Money as 12.50, percentages as 10 or 7.5, hours and days as whole numbers."),
    )
    rule_class_key = forms.ChoiceField(label=_("Decided as (policies only)"), required=False, choices=[])
    appointee = forms.CharField(label=_("Person's user name (appointments only)"), required=False, max_length=150)
    staff_role = forms.ChoiceField(
        label=_("Staff role (appointments only)"),
        required=False,
        choices=[
            ("", _("Choose a role")),
            ("verifier", _("Verifier")),
            ("treasurer", _("Treasurer")),
            ("moderator", _("Moderator")),
        ],
    )
    appointment_action = forms.ChoiceField(
        label=_("Appoint or remove (appointments only)"),
        required=False,
        choices=[("grant", _("Appoint to the role")), ("remove", _("Remove from the role"))],
    )
    dividend_period_start = forms.DateField(
        label=_("First day of the period (dividends only)"), required=False, widget=forms.DateInput({"type": "date"})
    )
    dividend_period_end = forms.DateField(
        label=_("Last day of the period (dividends only)"), required=False, widget=forms.DateInput({"type": "date"})
    )
    dividend_amount = MoneyField(
        label=_("Amount to share out (dividends only)"),
        required=False,
        maximum=10**13,
        help_text=_("At most the period's surplus after the reserve, for example 250.00"),
    )

    def __init__(self, *args: Any, rules: list[Any], rule_classes: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = {rule.key: rule for rule in rules}
        cast(forms.ChoiceField, self.fields["rule_key"]).choices = [("", _("Choose a rule"))] + [
            (r.key, rule_name(r)) for r in rules
        ]
        cast(forms.ChoiceField, self.fields["rule_class_key"]).choices = [("", _("Choose a kind of decision"))] + [
            (c.key, label_of(c.key)) for c in rule_classes
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "rule_change" and data.get("rule_key") in self.rules:
            text = (data.get("proposed_value") or "").strip()
            if not text:
                self.add_error("proposed_value", _("Say which value you propose."))
            else:
                try:
                    data["proposed_value"] = rule_value_from_text(self.rules[data["rule_key"]].value_type, text)
                except ValueError as error:
                    self.add_error("proposed_value", str(error))
        else:
            data["proposed_value"] = None
        return data


def rule_value_from_text(value_type: str, text: str) -> int:
    """A value as people write it, in the rule's stored unit (minor units, basis points, ...)."""
    try:
        if value_type == "money":
            return parse_amount(
                text,
                field=str(_("amount")),
                currency=platform_currency(),
                maximum=MAX_DEPOSIT,
                minimum=0,
                localized=True,
            )
        if value_type == "basis_points":
            number = text.strip().rstrip("%").strip()
            if number.count(",") == 1 and "." not in number:
                # A percentage never needs a thousands separator: a lone comma is a decimal comma.
                number = number.replace(",", ".")
            scaled = Decimal(number) * 100
            if scaled != scaled.to_integral_value():
                raise ValueError(_("At most two decimals in a percentage."))
            return int(scaled)
        if value_type == "boolean":
            lowered = text.strip().lower()
            if lowered in {"yes", "1", "true", "on", _("yes").lower()}:
                return 1
            if lowered in {"no", "0", "false", "off", _("no").lower()}:
                return 0
            raise ValueError(_("Write yes or no."))
        return int(text)
    except AppError as error:
        raise ValueError(error.message) from None
    except ArithmeticError:
        raise ValueError(_("'%(text)s' is not a number.") % {"text": text}) from None
    except ValueError as error:
        if "invalid literal" in str(error):
            raise ValueError(_("'%(text)s' is not a whole number.") % {"text": text}) from None
        raise


class CommentForm(PageForm):
    body = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}))
    parent_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class BallotForm(PageForm):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=[("yes", _("Yes")), ("no", _("No")), ("abstain", _("Abstain"))],
        widget=forms.RadioSelect,
    )
    ballot_secret = forms.CharField(
        label=_("Ballot secret"),
        required=False,
        max_length=128,
        help_text=_(
            "Secret votes only: leave empty for your first vote and keep the secret you are shown; "
            "type it here to change your vote."
        ),
    )


# --- treasurer ----------------------------------------------------------------------------------


class ConfirmDepositForm(PageForm):
    amount = MoneyField(label=_("Amount received"))


class SepaFailForm(PageForm):
    reason = forms.CharField(label=_("Why the bank returned it"), max_length=200, help_text=_("The worker reads this."))


# --- payouts ------------------------------------------------------------------------------------


class PayoutMethodForm(PageForm):
    iban = forms.CharField(label=_("IBAN"), max_length=42)
    account_holder = forms.CharField(label=_("Account holder"), max_length=70)
    bic = forms.CharField(label=_("BIC (optional)"), max_length=11, required=False)


class PaypalMethodForm(PageForm):
    email = forms.EmailField(label=_("Email address of your PayPal account"), max_length=254)


# What a worker in each country Wise pays is asked for, in words they know from their
# bank: (label, help text) per field of ``payouts.rails.wise.FIELDS``.
WISE_FIELD_WORDS: dict[str, dict[str, tuple[Any, Any]]] = {
    "PK": {
        "iban": (
            _("IBAN"),
            _("24 characters starting with PK, as on your bank statement or in your banking app."),
        ),
    },
    "BD": {
        "bank_code": (_("Bank code"), _("The code of your bank in Bangladesh; your cheque book or bank has it.")),
        "branch_code": (_("Branch code"), _("The code of your branch; your cheque book or bank has it.")),
        "account_number": (_("Account number"), _("As on your bank statement.")),
    },
    "NG": {
        "bank_code": (
            _("Bank code"),
            _("The 3-digit code of your bank in Nigeria, for example 044 for Access Bank or 058 for GTBank."),
        ),
        "account_number": (_("Account number"), _("Your 10-digit account number (NUBAN).")),
    },
    "KE": {
        "bank_code": (
            _("Bank code"),
            _("The code of your bank in Kenya, for example 01 for KCB or 68 for Equity Bank."),
        ),
        "account_number": (_("Account number"), _("As on your bank statement.")),
    },
}


class WiseMethodForm(PageForm):
    """A local bank account paid through Wise: the name, then exactly the fields Wise
    needs for an account in the worker's ``country`` (``payouts.rails.wise.FIELDS``),
    all required. The rail checks the values; its refusals land next to the field."""

    account_holder = forms.CharField(
        label=_("Name of the account holder"),
        help_text=_("Your full name exactly as your bank has it."),
        max_length=70,
    )

    def __init__(self, *args: Any, country: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        words = WISE_FIELD_WORDS.get(country.upper(), {})
        for name in WISE_FIELDS.get(country.upper(), ()):
            label, help_text = words[name]
            self.fields[name] = forms.CharField(label=label, help_text=help_text, max_length=34)


class PayoutScheduleForm(PageForm):
    frequency = forms.ChoiceField(
        label=_("When"),
        choices=[("weekly", _("Weekly, on Mondays")), ("daily", _("Daily")), ("on_request", _("Only when I ask"))],
    )
    minimum_amount = MoneyField(label=_("Only once the balance reaches"), maximum=MAX_PAYOUT_MINIMUM)


# --- disputes -----------------------------------------------------------------------------------


def _percent_to_bps(text: str) -> int:
    try:
        value = Decimal(text.strip().rstrip("%"))
    except ArithmeticError:
        raise forms.ValidationError(_("'%(text)s' is not a percentage.") % {"text": text}) from None
    scaled = value * 100
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= 10_000:
        raise forms.ValidationError(_("A percentage from 0 to 100, at most two decimals."))
    return int(scaled)


class PercentField(forms.CharField):
    """A share of the reward typed as a percentage, cleaned to basis points."""

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        return None if text in (None, "") else _percent_to_bps(text)


class DisputeForm(PageForm):
    statement = forms.CharField(
        label=_("Why the rejection is wrong"),
        widget=forms.Textarea,
        help_text=_("The requester and the panel read it."),
    )


class RespondForm(PageForm):
    action = forms.ChoiceField(
        label=_("Your answer"),
        choices=[
            ("accept", _("Accept: pay the work in full")),
            ("offer", _("Offer part of the reward")),
            ("contest", _("Contest: let a panel of members decide")),
        ],
        widget=forms.RadioSelect,
    )
    share = PercentField(label=_("Share offered (%)"), required=False, help_text=_("Only for an offer, e.g. 50."))
    text = forms.CharField(label=_("Your reasons"), widget=forms.Textarea, required=False)


class EvidenceForm(PageForm):
    text = forms.CharField(label=_("Evidence for the panel"), widget=forms.Textarea)


class JurorVoteForm(PageForm):
    share = PercentField(
        label=_("Share of the reward to pay (%)"), help_text=_("0 upholds the rejection, 100 pays in full.")
    )
    reason = forms.CharField(label=_("Your reason"), widget=forms.Textarea, help_text=_("Published with the decision."))


class MassVoteForm(PageForm):
    """A juror's vote on a mass case: one share per worker, each decided on their own work."""

    reason = forms.CharField(label=_("Your reason"), widget=forms.Textarea, help_text=_("Published with the decision."))

    def __init__(self, *args: Any, labels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels = labels
        for index, label in enumerate(labels):
            self.fields[f"share_{index}"] = PercentField(
                label=_("%(worker)s: share of the reward to pay (%%)") % {"worker": label},
                help_text=_("Judge only the items of %(worker)s: 0 upholds their rejections, 100 pays them in full.")
                % {"worker": label},
            )
        self.order_fields([f"share_{index}" for index in range(len(labels))] + ["reason"])

    def worker_shares(self) -> dict[str, int]:
        return {label: self.cleaned_data[f"share_{index}"] for index, label in enumerate(self.labels)}


class AppealForm(PageForm):
    reason = forms.CharField(label=_("Why the decision is wrong"), widget=forms.Textarea)


# --- organisations and membership -----------------------------------------------------------------


class OrganisationForm(PageForm):
    legal_name = forms.CharField(
        label=_("Legal name"), max_length=200, help_text=_("As registered; the co-op verifies it.")
    )
    display_name = forms.CharField(label=_("Public name"), max_length=120, help_text=_("What workers see."))
    country = forms.CharField(label=_("Country"), max_length=2, help_text=_("Two letters, for example DE."))
    contact_email = forms.EmailField(label=_("Contact email"))


class JurorOptInForm(PageForm):
    juror_opt_in = forms.BooleanField(
        label=_("I am willing to serve as a juror (paid a flat fee per case)"), required=False
    )


class SuspensionAppealForm(PageForm):
    statement = forms.CharField(label=_("Why the suspension should be lifted"), widget=forms.Textarea)


# --- saved searches and messages ------------------------------------------------------------------

ALERT_CHOICES = [
    ("inbox", _("In my inbox")),
    ("email", _("Inbox and e-mail at once")),
    ("push", _("Inbox and a browser notification")),
    ("none", _("No alert, just keep the search")),
]


class SavedSearchForm(PageForm):
    name = forms.CharField(label=_("Name of the search"), max_length=80)
    min_hourly_pay = MoneyField(label=_("Paying at least (per hour)"), required=False, help_text=_("For example 15.00"))
    max_minutes = forms.IntegerField(label=_("At most (minutes)"), required=False, min_value=1)
    keywords = forms.CharField(label=_("Keywords (all must appear)"), required=False, max_length=200)
    requester = forms.CharField(label=_("Only this requester (its short name)"), required=False, max_length=60)
    alert = forms.ChoiceField(label=_("Tell me about new matching work"), choices=ALERT_CHOICES, initial="inbox")


class MessageForm(PageForm):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea, max_length=5000)


# --- verification, team and staff console --------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (Django's recipe for multiple uploads)."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:  # type: ignore[override]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class VerificationForm(PageForm):
    """The requester's identity. The documents are checked by ``accounts.verification``
    (type by content, size)."""

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    country = forms.CharField(label=_("Country of registration"), max_length=2, help_text=_("Two letters, e.g. DE."))
    registration_number = forms.CharField(label=_("Registration or tax number"), max_length=80)
    address = forms.CharField(label=_("Registered address"), widget=forms.Textarea(attrs={"rows": 3}))
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=200)
    documents = MultipleFileField(
        label=_("Documents (optional)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        help_text=_(
            "PDF, PNG or JPEG, at most 4 MB each: e.g. a register extract. Only the co-op's verifiers see them."
        ),
    )


class InviteForm(PageForm):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            ("reviewer", _("Reviewer: prepares, publishes and reviews batches")),
            ("finance", _("Finance: funds and withdraws")),
            ("owner", _("Owner: everything, and manages members and keys")),
        ],
    )


class MemberRoleForm(PageForm):
    role = forms.ChoiceField(
        label=_("Role"), choices=[("owner", _("Owner")), ("reviewer", _("Reviewer")), ("finance", _("Finance"))]
    )


class StaffReasonForm(PageForm):
    reason = forms.CharField(label=_("Reason (kept in the audit log)"), widget=forms.Textarea(attrs={"rows": 2}))


class RefuseVerificationForm(PageForm):
    code = forms.ChoiceField(label=_("Reason"))
    text = forms.CharField(label=_("Explanation to the requester"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, reasons: Mapping[str, object], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = [("", _("Choose a reason")), *list(reasons.items())]


class AskInformationForm(PageForm):
    text = forms.CharField(label=_("What is missing"), widget=forms.Textarea(attrs={"rows": 2}))


class SuspendForm(PageForm):
    code = forms.ChoiceField(label=_("Reason"))
    reason = forms.CharField(label=_("What happened (the person reads it)"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, reasons: Mapping[str, object], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = [("", _("Choose a reason")), *list(reasons.items())]


# --- quality control (issue 27) -----------------------------------------------------------------


class QualificationForm(PageForm):
    """A qualification, with its test written one question a line:
    ``question | option; option; option | correct answer`` (no options: a typed answer)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("What it certifies"), widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Workers read this.")
    )
    questions = forms.CharField(
        label=_("Test questions (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code", "spellcheck": "false"}),
        help_text=_(
            "One question a line: question | option; option; option | correct answer. Leave the options empty for a "
            "typed answer. Without questions, you grant the qualification by hand."
        ),
    )
    pass_percent = forms.IntegerField(label=_("Pass mark (%)"), initial=100)
    pool_size = forms.IntegerField(
        label=_("Questions per attempt"),
        initial=0,
        help_text=_("Drawn at random from the questions above, in random order; 0 asks every question."),
    )
    estimated_minutes = forms.IntegerField(
        label=_("Estimated minutes"), initial=1, help_text=_("A test longer than the co-op's free length is paid.")
    )

    def test(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The questions and answer key; a malformed line is a form error naming it."""
        questions: list[dict[str, Any]] = []
        key: dict[str, str] = {}
        lines = [line for line in (self.cleaned_data.get("questions") or "").splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or not parts[0] or not parts[2]:
                raise forms.ValidationError(
                    _("Line %(number)s: write question | options | correct answer (options may be empty).")
                    % {"number": number}
                )
            options = [option.strip() for option in parts[1].split(";") if option.strip()]
            name = f"q{number}"
            questions.append({"name": name, "question": parts[0], "options": options})
            key[name] = parts[2]
        return questions, key


class GrantForm(PageForm):
    worker = forms.CharField(label=_("Worker's pseudonym"), max_length=64)


def qualification_test_form(questions: list[dict[str, Any]], data: Any = None) -> forms.Form:
    """The drawn questions of an attempt as a form: options as radio buttons, else a text box."""
    form = PageForm(data)
    for question in questions:
        if question["options"]:
            form.fields[question["name"]] = forms.ChoiceField(
                label=question["question"],
                choices=[(option, option) for option in question["options"]],
                widget=forms.RadioSelect,
                required=False,
            )
        else:
            form.fields[question["name"]] = forms.CharField(label=question["question"], required=False, max_length=500)
    return form


class PasswordResetInLanguageForm(PasswordResetForm):
    """The reset e-mail in the account holder's saved language, else the page's: the person
    who asks may be on someone else's device, the e-mail goes to the account's owner."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        language, _zone = reading_choice(user_id=context["user"].pk)
        with translation.override(language or translation.get_language()):
            super().send_mail(
                subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name
            )
