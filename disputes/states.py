"""Transition table of a dispute case (see PRODUCT.md, Domain and lifecycles).

awaiting_response --accept / lapse_response--> closed (worker paid in full)
awaiting_response --offer--> offer_made --accept_offer--> closed (partial pay)
awaiting_response --contest--> evidence (panel drawn)
offer_made --decline_offer / lapse_offer--> evidence (panel drawn)
evidence --close_evidence--> voting --decide--> decided --finalise--> closed
decided --appeal--> evidence (round 2, larger fresh panel) ... voting --decide_final--> closed
"""

from core.states import StateMachine
from disputes.models import Case

AWAITING_RESPONSE = Case.State.AWAITING_RESPONSE
OFFER_MADE = Case.State.OFFER_MADE
EVIDENCE = Case.State.EVIDENCE
VOTING = Case.State.VOTING
DECIDED = Case.State.DECIDED
CLOSED = Case.State.CLOSED

CASE = StateMachine(
    "case",
    {
        # The requester answers.
        "accept": (frozenset({AWAITING_RESPONSE}), CLOSED),
        "offer": (frozenset({AWAITING_RESPONSE}), OFFER_MADE),
        "contest": (frozenset({AWAITING_RESPONSE}), EVIDENCE),
        # Silence past the response deadline: the worker wins.
        "lapse_response": (frozenset({AWAITING_RESPONSE}), CLOSED),
        # The worker answers an offer; silence sends the case to a panel (the worker loses nothing by it).
        "accept_offer": (frozenset({OFFER_MADE}), CLOSED),
        "decline_offer": (frozenset({OFFER_MADE}), EVIDENCE),
        "lapse_offer": (frozenset({OFFER_MADE}), EVIDENCE),
        "add_evidence": (frozenset({EVIDENCE}), EVIDENCE),
        "close_evidence": (frozenset({EVIDENCE}), VOTING),
        "vote": (frozenset({VOTING}), VOTING),
        "replace_jurors": (frozenset({VOTING}), VOTING),
        "decide": (frozenset({VOTING}), DECIDED),
        # The appeal panel's decision is final at once: there is only one appeal.
        "decide_final": (frozenset({VOTING}), CLOSED),
        "appeal": (frozenset({DECIDED}), EVIDENCE),
        "finalise": (frozenset({DECIDED}), CLOSED),
        # A mass case whose every worker asked for their own case.
        "empty": (frozenset({AWAITING_RESPONSE, EVIDENCE, VOTING}), CLOSED),
    },
)

# Stages with a deadline the Celery job enforces.
TIMED = frozenset({AWAITING_RESPONSE, OFFER_MADE, EVIDENCE, VOTING, DECIDED})
# A mass case keeps the requester from publishing while it is in one of these.
UNDECIDED = frozenset({AWAITING_RESPONSE, OFFER_MADE, EVIDENCE, VOTING})
# A worker may still ask for their own case out of a mass case.
SPLITTABLE = frozenset({AWAITING_RESPONSE, EVIDENCE, VOTING})
