"""Staff: the periodic jobs' lag and parked items (the same report as ``/health/``),
with the parked items released from here."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import PermissionDenied
from core.models import JobItemFailure
from core.runner import job_item_release, jobs_health
from frontend.pages import app_page, user_of


def _staff_only(request: HttpRequest) -> None:
    if not user_of(request).is_staff:
        raise PermissionDenied(_("Only staff see the jobs' health."))


@app_page
def jobs_page(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    report = jobs_health()
    parked = JobItemFailure.objects.filter(parked_at__isnull=False).order_by("job", "parked_at")
    return render(request, "frontend/staff/jobs.html", {"report": sorted(report.items()), "parked": parked})


@require_POST
@app_page
def job_item_release_page(request: HttpRequest, failure_id: int) -> HttpResponse:
    _staff_only(request)
    released = job_item_release(failure_ids=[failure_id])
    messages.success(request, _("The item is tried again at the next run.") if released else _("Nothing to release."))
    return redirect("staff_jobs")
