"""Quality control in the API (issue 27): a batch's control accuracy per worker and its
aggregated answers with agreement (the requester's, review permission), rejection under the
batch's control threshold, and every score kept about the signed-in worker."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks import selectors, services
from tasks.api.access import _user, _worker, batch_for_request
from tasks.quality import selectors as quality_selectors
from tasks.quality.aggregation import ALPHA_FORMULA, DAWID_SKENE_FORMULA, MAJORITY_VOTE_FORMULA
from tasks.quality.scoring import SCORING_RULES

ITEMS_LIMIT = 1000


def _score(score: quality_selectors.ControlScore) -> dict[str, Any]:
    return {
        "worker": score.pseudonym,
        "correct": score.correct,
        "answered": score.answered,
        "accuracy_bps": score.accuracy_bps,
    }


class BatchQualityView(APIView):
    accepts_organisation_keys = True

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, batch_id: int) -> Response:
        """Each worker's control accuracy, and per answer field of redundant work the majority
        vote and Dawid-Skene answers with confidence (first 1,000 tasks) and Krippendorff's alpha."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        fields = []
        if batch.assignments_per_task > 1:
            for aggregate in quality_selectors.batch_aggregates(batch=batch):
                fields.append(
                    {
                        "field": aggregate.field,
                        "alpha": aggregate.alpha,
                        "items": aggregate.items,
                        "answers": aggregate.answers,
                        "tasks": [
                            {
                                "task": task_id,
                                "majority_vote": vote.label,
                                "majority_vote_confidence": round(vote.confidence, 4),
                                "dawid_skene": aggregate.dawid_skene[task_id].label,
                                "dawid_skene_confidence": round(aggregate.dawid_skene[task_id].confidence, 4),
                            }
                            for task_id, vote in sorted(aggregate.majority.items())[:ITEMS_LIMIT]
                        ],
                    }
                )
        return Response(
            {
                "control_share_bps": batch.control_share_bps,
                "attention_checks": len(batch.attention_checks),
                "control_threshold_bps": batch.control_threshold_bps,
                "control_min_answered": batch.control_min_answered,
                "control_accuracy": [
                    _score(score) for score in quality_selectors.batch_control_scores(batch=batch).values()
                ],
                "aggregates": fields,
                "formulas": {
                    "control_accuracy": str(quality_selectors.CONTROL_ACCURACY_FORMULA),
                    "scoring": str(SCORING_RULES),
                    "majority_vote": str(MAJORITY_VOTE_FORMULA),
                    "dawid_skene": str(DAWID_SKENE_FORMULA),
                    "alpha": str(ALPHA_FORMULA),
                },
            }
        )


class ControlRejectionsView(APIView):
    accepts_organisation_keys = True

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, batch_id: int) -> Response:
        """Rejects, provisionally and disputably, the awaiting work of every worker under the
        batch's control threshold, each with its control evidence for a dispute."""
        batch = batch_for_request(request, batch_id, "tasks.review_batch")
        count = services.batch_reject_below_control_threshold(actor=_user(request), batch=batch)
        return Response({"rejected": count})


class MyScoresView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        """Every score kept about the signed-in worker, each with how it is computed."""
        worker = _worker(request)
        rate = selectors.worker_approval_rate(worker=worker)
        return Response(
            {
                "approval_rate": {
                    "rate_bps": rate.rate_bps,
                    "approved": rate.approved,
                    "final_rejections": rate.final_rejections,
                    "formula": selectors.APPROVAL_RATE_FORMULA,
                },
                "control_accuracy": [
                    {
                        "batch": batch.pk,
                        "title": batch.title,
                        "threshold_bps": batch.control_threshold_bps,
                        "sandbox": batch.is_sandbox,
                    }
                    | _score(score)
                    for batch, score in quality_selectors.worker_control_scores(worker=worker)
                ],
                "control_accuracy_formula": str(quality_selectors.CONTROL_ACCURACY_FORMULA),
                "scoring_rules": str(SCORING_RULES),
                "qualification_tests": [
                    {
                        "qualification": attempt.qualification_id,
                        "name": attempt.qualification.name,
                        "attempt": attempt.number,
                        "score_bps": attempt.score_bps,
                        "pass_bps": attempt.pass_bps,
                        "submitted_at": attempt.submitted_at,
                    }
                    for attempt in quality_selectors.worker_qualification_attempts(worker=worker)
                ],
                "qualification_score_formula": str(quality_selectors.QUALIFICATION_SCORE_FORMULA),
            }
        )
