"""The published lists of reasons staff may give. A refusal or a suspension names one of
these codes plus its own words; the lists are shown on the public staff page
(``/coop/staff/``) and at ``/api/staff/reasons/``, so anyone can see what staff may decide on."""

VERIFICATION_REFUSAL_REASONS: dict[str, str] = {
    "identity_not_established": "The legal identity could not be established from what was sent.",
    "documents_inconsistent": "The documents contradict the details given.",
    "registration_not_found": "The registration or tax number was not found in the public register.",
    "sanctioned_or_prohibited": "The organisation may not use the platform (sanctions or prohibited purpose).",
    "responsible_person_unconfirmed": "The responsible person could not be confirmed.",
}

SUSPENSION_REASONS: dict[str, str] = {
    "fraudulent_work": "Submitting work that was not done (bots, copied or random answers) repeatedly.",
    "account_sharing": "Sharing or selling the account, or holding several accounts.",
    "harassment": "Harassing workers, requesters, jurors or staff.",
    "payment_fraud": "Fraud against the co-op's money (charge-backs, stolen means of payment).",
    "legal_order": "An order of a court or authority the co-op must follow.",
}


def reason_text(reasons: dict[str, str], code: str, text: str) -> str:
    """The sentence a person reads: the published reason, then the staff member's words."""
    return f"{reasons[code]} {text}".strip()
