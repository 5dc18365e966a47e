"""The worker side of ExternalQuestion: the URL of the external page, with the
parameters MTurk passes (assignmentId, hitId, workerId, turkSubmitTo). The builders live
in ``tasks.external`` (the worker's pages use them too) and are re-exported here."""

from tasks.external import PREVIEW_ASSIGNMENT_ID, external_preview_url, external_task_url, turk_submit_to

__all__ = ["PREVIEW_ASSIGNMENT_ID", "external_preview_url", "external_task_url", "turk_submit_to"]
