"""Every kind of notification the platform sends, in one table.

A notification stores its category and the parameters of its text, never the text itself:
the words are rendered when the person reads them, in their language (Django's i18n) and
with times in their time zone. A category says whether the person may opt out of its
e-mail (never for a suspension or a case against them) and how its e-mail goes by default.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

IMMEDIATE = "immediate"
DIGEST = "digest"
OFF = "off"
EMAIL_MODES = (IMMEDIATE, DIGEST, OFF)


@dataclass(frozen=True)
class Category:
    key: str
    title: Promise
    body: Promise
    # False: the e-mail cannot be turned off (suspension, a case against the person).
    opt_out: bool = True
    default_email: str = IMMEDIATE
    # True: an account-security notice. Its e-mail goes at once whatever the person chose
    # (a digest would arrive too late to act on it), and it is not listed in the settings.
    always_email: bool = False
    # Rows written before the words were rendered when read kept their English text in this
    # parameter: shown as it was, so an old notice stays readable.
    stored_text: str = ""

    def __post_init__(self) -> None:
        if self.always_email and self.opt_out:
            raise ValueError(f"{self.key}: a notice that always goes by e-mail cannot be opted out of")


_CATEGORIES = [
    Category(
        "rejection",
        _("Your work on “%(batch)s” was rejected"),
        _("Reason: %(reason)s. You can dispute the rejection until %(deadline)s; after that it is final."),
    ),
    Category(
        "sandbox_rejection",
        _("Your test work on “%(batch)s” was rejected"),
        _(
            "Reason: %(reason)s. This was sandbox work, paid in play money: the rejection costs nothing real and "
            "cannot be disputed."
        ),
    ),
    Category(
        "rejection_deadline",
        _("Last days to dispute the rejection on “%(batch)s”"),
        _("The rejection becomes final at %(deadline)s unless you dispute it."),
    ),
    Category(
        "dispute_opened",
        _("A worker disputes a rejection on “%(batch)s”"),
        _("Answer by %(deadline)s: a requester who does not answer in time loses the case."),
        opt_out=False,
    ),
    Category(
        "response_due",
        _("Your answer to case %(case)s is due"),
        _("Answer by %(deadline)s or the case is decided against you."),
        opt_out=False,
    ),
    Category(
        "mass_case_opened",
        _("Your rejected work is held in case %(case)s"),
        _(
            "The co-op's mass-rejection guard opened this case: the pay stays in escrow. Jurors decide your work "
            "for you alone, on your items only. You can add evidence and ask for your items to be heard in a case "
            "of your own."
        ),
        opt_out=False,
    ),
    Category(
        "juror_drawn",
        _("You were drawn as a juror for case %(case)s"),
        _("Open the case file; your next deadline is %(deadline)s. Jurors are paid a flat fee for their work."),
    ),
    Category(
        "juror_voting_open",
        _("Voting is open on case %(case)s"),
        _(
            "The evidence stage is over. Cast your sealed vote by %(deadline)s, or another member takes your seat "
            "and its fee."
        ),
    ),
    Category(
        "juror_vote_due",
        _("Your vote on case %(case)s is due"),
        _("Vote by %(deadline)s, or another member takes your seat."),
    ),
    Category(
        "juror_replaced",
        _("You were replaced on case %(case)s"),
        _("You did not vote in time, so another member took your seat."),
    ),
    Category(
        "case_decided",
        _("Case %(case)s is decided"),
        _("Outcome: %(outcome)s."),
    ),
    Category(
        "proposal_discussion",
        _("Discussion opened: %(proposal)s"),
        _("Discussion runs until %(deadline)s; voting opens after it."),
        default_email=DIGEST,
    ),
    Category(
        "proposal_voting",
        _("Voting opened: %(proposal)s"),
        _("Vote by %(deadline)s. One member, one vote."),
        default_email=DIGEST,
    ),
    Category(
        "proposal_closing",
        _("Voting closes soon: %(proposal)s"),
        _("Voting closes at %(deadline)s."),
    ),
    Category(
        "rule_adopted",
        _("Adopted: %(proposal)s"),
        _("It takes effect at %(effective)s."),
        default_email=DIGEST,
    ),
    Category(
        "rule_in_effect",
        _("Now in effect: %(proposal)s"),
        _("The adopted change is now a rule in force."),
        default_email=DIGEST,
    ),
    Category(
        "payout_sent",
        _("Payout sent: %(amount)s"),
        _("Your payout of %(amount)s to %(destination)s is on its way."),
        default_email=DIGEST,
    ),
    Category(
        "payout_paid",
        _("Payout paid: %(amount)s"),
        _("Your payout of %(amount)s to %(destination)s has arrived."),
        default_email=DIGEST,
    ),
    Category(
        "payout_failed",
        _("Your payout did not go through"),
        _(
            "Your payout of %(amount)s to %(destination)s failed: %(reason)s The amount is back in your balance; "
            "it is paid with your next payout, or ask for it from your payouts page after checking your payout "
            "method."
        ),
    ),
    # Amounts are stored in minor units with the currency, and written when read (``render``).
    Category(
        "top_up",
        _("A fair-pay top-up on “%(batch)s”"),
        _(
            "A fair-pay top-up of %(top_up)s is paid to you: the median worker on “%(batch)s” took %(minutes)s min, "
            "so the reward paid %(median_hourly)s per hour, under the co-op's minimum of %(floor_hourly)s per hour."
        ),
        default_email=DIGEST,
        stored_text="message",
    ),
    Category(
        "top_up_owed",
        _("A fair-pay top-up owed on “%(batch)s”"),
        _(
            "A fair-pay top-up of %(top_up)s is owed to you: the median worker on “%(batch)s” took %(minutes)s min, "
            "so the reward paid %(median_hourly)s per hour, under the co-op's minimum of %(floor_hourly)s per hour. "
            "The requester's balance cannot cover it yet; it is paid when they add funds."
        ),
        default_email=DIGEST,
        stored_text="message",
    ),
    Category(
        "top_up_requester",
        _("Fair-pay review of “%(batch)s”"),
        _(
            "“%(batch)s” paid a median %(median_hourly)s per hour against the co-op's minimum of %(floor_hourly)s "
            "per hour: each paid assignment is owed a top-up of %(top_up)s from your balance (%(owed)s owed now; "
            "work paid later is owed it too). What your balance cannot cover waits until you add funds. Correct "
            "the time estimate for future batches."
        ),
        stored_text="message",
    ),
    Category(
        "bonus",
        _("A bonus of %(amount)s on “%(batch)s”"),
        _("%(requester)s sent you a bonus: %(reason)s"),
        default_email=DIGEST,
    ),
    Category(
        "qualification_granted",
        _("Qualification granted: %(qualification)s"),
        _("%(requester)s granted you “%(qualification)s”."),
        default_email=DIGEST,
    ),
    Category(
        "qualification_revoked",
        _("Qualification revoked: %(qualification)s"),
        _("%(requester)s revoked “%(qualification)s”."),
    ),
    Category(
        "suspension",
        _("Your account is suspended"),
        _("Reason: %(reason)s\nYou can still withdraw your earnings, and you can appeal."),
        opt_out=False,
    ),
    Category(
        "verification",
        _("Verification of %(organisation)s: %(decision)s"),
        _("%(reason)s"),
    ),
    Category(
        "saved_search_match",
        _("New work for your search “%(search)s”"),
        _("“%(batch)s” by %(requester)s pays about %(hourly)s per hour."),
        default_email=OFF,
    ),
    Category(
        "suspension_lifted",
        _("Your suspension is lifted"),
        _("%(reason)s You can take work again."),
        opt_out=False,
    ),
    # Account security (accounts.security_notices): e-mailed at once, cannot be turned off.
    Category(
        "signin_locked",
        _("Sign-in to your account was locked"),
        _(
            "Someone failed to sign in to your account “%(username)s” %(failures)s times, so sign-in is locked "
            "for %(minutes)s minutes. If it was not you, your password may be under attack: choose a new one "
            "(password reset) and turn on two-factor authentication."
        ),
        opt_out=False,
        always_email=True,
    ),
    Category(
        "payout_destination_changed",
        _("Your payout destination changed"),
        _(
            "Your earnings will now be paid to %(destination)s (previous destination: %(previous)s). For your "
            "safety, nothing is paid there before %(not_before)s (%(hours)s hours). If you did not make this "
            "change, sign in, cancel any waiting payout on your payouts page, choose your own destination again, "
            "change your password and contact the co-op."
        ),
        opt_out=False,
        always_email=True,
    ),
    Category(
        "two_factor_enabled",
        _("Two-factor authentication is on"),
        _(
            "Your account now asks for a code from your authenticator app when you sign in. If you did not do "
            "this, reset your password and contact the co-op at once."
        ),
        opt_out=False,
        always_email=True,
    ),
    Category(
        "two_factor_disabled",
        _("Two-factor authentication is off"),
        _(
            "Your account no longer asks for a code when you sign in. If you did not do this, reset your "
            "password and contact the co-op at once."
        ),
        opt_out=False,
        always_email=True,
    ),
    Category(
        "passkey_added",
        _("A passkey was added to your account"),
        _(
            "The passkey “%(name)s” can now be used as your second factor. If you did not add it, remove it "
            "from your security page, reset your password and contact the co-op at once."
        ),
        opt_out=False,
        always_email=True,
    ),
    Category(
        "passkey_removed",
        _("A passkey was removed from your account"),
        _("The passkey “%(name)s” no longer signs you in. If you did not remove it, contact the co-op at once."),
        opt_out=False,
        always_email=True,
    ),
    # Team invitations (accounts.teams): the only copy of the link, so it cannot be turned off.
    Category(
        "team_invitation",
        _("Join %(organisation)s on the co-op"),
        _(
            "%(inviter)s invites you to %(organisation)s as %(role)s. Sign in (or register with this address) "
            "and open the invitation within %(days)s days: %(link)s"
        ),
        opt_out=False,
        always_email=True,
    ),
    Category("requester_message", _("A message from %(requester)s: %(subject)s"), _("%(message)s")),
    Category(
        "dividend_paid",
        _("Your patronage dividend: %(amount)s"),
        _(
            "The members voted to share out part of the surplus of %(period_start)s to %(period_end)s. Your share, "
            "in proportion to what you earned then, is in your balance and leaves with your next payout."
        ),
        default_email=DIGEST,
    ),
    Category(
        "batch_data_report",
        _("What became of your work on “%(batch)s”"),
        _("%(requester)s reported what the data was used for: %(used_for)s"),
        default_email=DIGEST,
    ),
    Category(
        "data_report_due",
        _("Report what became of the data of “%(batch)s”"),
        _(
            "The batch has closed. Tell the workers what the data was used for by %(deadline)s; a report not filed "
            "in time is marked on your public page."
        ),
    ),
    # Fair dispatch (tasks.notices.wave_drawn): a wave's draw, to the workers who applied.
    Category(
        "dispatch_given",
        _("A slot on “%(batch)s” is yours"),
        _(
            "You were drawn in wave %(wave)s. The task is waiting for you: hand it in by %(deadline)s. If you "
            "cannot do it, return it so that it goes to someone else."
        ),
    ),
    Category(
        "dispatch_not_drawn",
        _("Not drawn this time: “%(batch)s”"),
        _(
            "Wave %(wave)s: slots given by lot: %(given)s; workers who applied: %(applicants)s. Your next chance "
            "comes at %(next_chance)s (see the batch's page)."
        ),
        default_email=OFF,
    ),
    Category(
        "task_message",
        _("New message about “%(batch)s”"),
        _("%(sender)s wrote: %(excerpt)s"),
    ),
]

CATEGORIES: dict[str, Category] = {category.key: category for category in _CATEGORIES}
