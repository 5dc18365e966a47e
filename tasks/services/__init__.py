"""Writes of the marketplace. Each public service is one transaction, checks its
move against ``tasks.states``, writes an audit row and moves escrow only through
``ledger.escrow``.

Lock order, always: batch, then assignments in ascending id. The claim is the
exception that proves it: it never locks the batch (thousands of claimers must
not queue on one row) and locks exactly one assignment with SKIP LOCKED.

The package has one module per lifecycle, and this module re-exports every public name, so
callers keep ``from tasks import services``: ``batches`` (draft to completion), ``claims`` (the
worker's side of a slot), ``review`` (approve, reject, bonus), ``outcomes`` (what becomes of a
rejection: dispute, lapse, finalise, settle, withdraw), ``fair_pay`` (the top-ups) and
``qualifications`` (also the block list and ratings), ``controls`` (rejection under a batch's
control threshold), ``dispatch`` (wave plans, applications, draws) and ``activity`` (the
workers' hours the waves are sized by); ``common`` holds the shared checks and locks.
"""

from tasks.services.activity import worker_activity_prune, worker_activity_record
from tasks.services.batches import (
    BATCH_PERMISSIONS,
    BATCH_RULES,
    MAX_ASSIGNMENTS_PER_TASK,
    MAX_LIFETIME_HOURS,
    MAX_TIME_ALLOTTED_MINUTES,
    batch_add_assignments,
    batch_cancel,
    batch_create,
    batch_expire,
    batch_extend_lifetime,
    batch_hold_for_case,
    batch_pause,
    batch_publish,
    batch_resume,
    batch_set_input,
    batch_time_allotted_grow,
)
from tasks.services.claims import (
    assignment_accept,
    assignment_expire,
    assignment_return,
    assignment_submit,
    assignment_submit_completion_code,
    late_submission_grace,
)
from tasks.services.controls import batch_reject_below_control_threshold
from tasks.services.data_promises import (
    assignment_reuse_opt_out,
    batch_data_report_file,
    batch_data_report_mark_overdue,
    batch_worker_ids,
)
from tasks.services.dispatch import dispatch_wave_draw, wave_apply
from tasks.services.drafts import (
    BATCH_EDITABLE_FIELDS,
    PUBLISHED_EDITABLE_FIELDS,
    TEMPLATE_FIELDS,
    batch_clone,
    batch_delete,
    batch_fields,
    batch_update,
    task_template_delete,
    task_template_save,
    task_template_update,
)
from tasks.services.fair_pay import (
    FAIR_PAY_FORMULA,
    FairPayFigures,
    batch_fair_pay_review,
    batch_fair_pay_review_failed,
    batch_good_faith_seconds,
    batch_hourly_pay,
    fair_pay_collect_owed,
    fair_pay_figures,
    fair_pay_owe_late_top_ups,
    fair_pay_top_up_pay,
    good_faith_median,
)
from tasks.services.outcomes import (
    assignment_rejection_dispute,
    assignment_rejection_finalise,
    assignment_rejection_lapse,
    assignment_rejection_withdraw,
    assignment_settle_outcome,
)
from tasks.services.qualifications import (
    RetakeStanding,
    qualification_create,
    qualification_grant,
    qualification_retake_standing,
    qualification_revoke,
    qualification_test_offer,
    qualification_test_pay,
    qualification_test_start,
    qualification_test_take,
    requester_rate,
    worker_block,
    worker_unblock,
)
from tasks.services.review import assignment_approve, assignment_bonus, assignment_reject, assignments_approve_many
from tasks.services.review_files import (
    BonusFileResult,
    ReviewFileResult,
    bonus_file_apply,
    bonus_file_token,
    review_file_apply,
)
from tasks.services.sandbox import sandbox_top_up

__all__ = [
    "BATCH_EDITABLE_FIELDS",
    "BATCH_PERMISSIONS",
    "BATCH_RULES",
    "FAIR_PAY_FORMULA",
    "MAX_ASSIGNMENTS_PER_TASK",
    "MAX_LIFETIME_HOURS",
    "MAX_TIME_ALLOTTED_MINUTES",
    "PUBLISHED_EDITABLE_FIELDS",
    "TEMPLATE_FIELDS",
    "BonusFileResult",
    "FairPayFigures",
    "RetakeStanding",
    "ReviewFileResult",
    "assignment_accept",
    "assignment_approve",
    "assignment_bonus",
    "assignment_expire",
    "assignment_reject",
    "assignment_rejection_dispute",
    "assignment_rejection_finalise",
    "assignment_rejection_lapse",
    "assignment_rejection_withdraw",
    "assignment_return",
    "assignment_reuse_opt_out",
    "assignment_settle_outcome",
    "assignment_submit",
    "assignment_submit_completion_code",
    "assignments_approve_many",
    "batch_add_assignments",
    "batch_cancel",
    "batch_clone",
    "batch_create",
    "batch_data_report_file",
    "batch_data_report_mark_overdue",
    "batch_delete",
    "batch_expire",
    "batch_extend_lifetime",
    "batch_fair_pay_review",
    "batch_fair_pay_review_failed",
    "batch_fields",
    "batch_good_faith_seconds",
    "batch_hold_for_case",
    "batch_hourly_pay",
    "batch_pause",
    "batch_publish",
    "batch_reject_below_control_threshold",
    "batch_resume",
    "batch_set_input",
    "batch_time_allotted_grow",
    "batch_update",
    "batch_worker_ids",
    "bonus_file_apply",
    "bonus_file_token",
    "dispatch_wave_draw",
    "fair_pay_collect_owed",
    "fair_pay_figures",
    "fair_pay_owe_late_top_ups",
    "fair_pay_top_up_pay",
    "good_faith_median",
    "late_submission_grace",
    "qualification_create",
    "qualification_grant",
    "qualification_retake_standing",
    "qualification_revoke",
    "qualification_test_offer",
    "qualification_test_pay",
    "qualification_test_start",
    "qualification_test_take",
    "requester_rate",
    "review_file_apply",
    "sandbox_top_up",
    "task_template_delete",
    "task_template_save",
    "task_template_update",
    "wave_apply",
    "worker_activity_prune",
    "worker_activity_record",
    "worker_block",
    "worker_unblock",
]
