"""External tasks and previews for workers (issue 24 points 1 and 2): the frame that opens a
requester's survey with MTurk's parameters, the completion-code alternative, and the
preview of a task (template or external) before accepting it."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from core.errors import AppError
from core.security import DEFAULT_POLICY
from frontend.batch_forms import CompletionCodeForm
from frontend.pages import app_page, user_of
from tasks import inputs
from tasks import selectors as task_selectors
from tasks import services as task_services

# The external page runs in its own origin (allow-same-origin keeps the survey's own
# cookies working; it is another site, so it still cannot read ours); it may post its
# form (to turkSubmitTo/mturk/externalSubmit) and open the platform again at the top
# only when the worker clicks.
EXTERNAL_FRAME_SANDBOX = (
    "allow-forms allow-scripts allow-same-origin allow-popups allow-top-navigation-by-user-activation"
)

_DEFAULT_FRAME_SOURCE = "frame-src 'self' https:"


def page_policy_with_frame(url: str) -> str:
    """The platform's page policy, with frames limited to our own pages and the origin of
    the external task ``url`` (which may be plain http only on a development machine or
    in the tests, where ``tasks.services`` never lets such a URL be saved)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    policy = str(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY))
    return policy.replace(_DEFAULT_FRAME_SOURCE, f"frame-src 'self' {origin}".rstrip())


# The preview's copy of the template: a submit does nothing but say that this is a preview.
PREVIEW_FRAME_CSP = "sandbox allow-forms allow-scripts; frame-ancestors 'self'"

_PREVIEW_BRIDGE = """
(function () {
  document.addEventListener("submit", function (event) {
    event.preventDefault();
    var note = document.getElementById("coop-preview-note");
    if (note) { note.hidden = false; }
  }, true);
})();
"""

_PREVIEW_PAGE = """<!doctype html>
<html lang="%(lang)s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:1rem;color:#1b1b1f}
input,select,textarea{font:inherit}button{font:inherit;padding:.4rem 1rem}
.coop-preview{background:#fff4ce;padding:.4rem .8rem;border-radius:.3rem}</style></head>
<body><p class="coop-preview" id="coop-preview-banner">%(banner)s</p>%(body)s
<p class="coop-preview" id="coop-preview-note" role="status" hidden>%(note)s</p>
<script>%(bridge)s</script></body></html>"""


@xframe_options_exempt
@app_page
def batch_preview_frame(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A template task as the worker will see it, filled with the batch's first input row,
    before accepting: the same sandbox as the real frame, and nothing can be submitted."""
    batch = task_selectors.batch_for_worker(batch_id=batch_id, worker=user_of(request))
    if not batch.template_html:
        raise Http404("This task has no template to preview.")
    first = batch.tasks.order_by("row_number").first()
    body = inputs.template_render(batch.template_html, first.input if first else {})
    page = _PREVIEW_PAGE % {
        "lang": escape(getattr(request, "LANGUAGE_CODE", "en")),
        "title": escape(batch.title),
        "banner": escape(_("Preview: accept the task to work on it.")),
        "body": body,
        "note": escape(_("This is a preview; nothing was sent. Accept the task to submit answers.")),
        "bridge": _PREVIEW_BRIDGE,
    }
    response = HttpResponse(page)
    response["Content-Security-Policy"] = PREVIEW_FRAME_CSP
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@app_page
def assignment_completion_code(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """The worker pastes the code the survey showed at its end; a match submits the task."""
    worker = user_of(request)
    assignment = task_selectors.access_assignment_for_worker(worker=worker, assignment_id=assignment_id)
    form = CompletionCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Paste the completion code the survey showed you; nothing was submitted."))
        return redirect("worker_assignment", assignment_id=assignment.pk)
    try:
        task_services.assignment_submit_completion_code(
            worker=worker, assignment=assignment, code=form.cleaned_data["code"]
        )
    except AppError as error:
        messages.error(request, error.message)
        return redirect("worker_assignment", assignment_id=assignment.pk)
    messages.success(request, _("Submitted. %(title)s is now awaiting review.") % {"title": assignment.batch.title})
    return redirect("worker_assignments")
