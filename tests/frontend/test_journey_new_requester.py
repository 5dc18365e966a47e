"""A new requester, from registration to a published batch, by clicking only (no typed
addresses), with the second factor enforced as in production: register, create the
organisation, turn on two-factor (an owner's functions need it), send the verification; a
verifier (who needs it too) approves it in the staff pages; the treasurer confirms the bank
transfer; the requester creates a batch and publishes it. From every requester page the
navigation leads back to the organisation's dashboard."""

import base64
import re
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation
from payments.models import Deposit
from tasks.models import Batch
from tests.factories import PASSWORD, staff_member
from tests.frontend.conftest import nav
from tests.tasks.factories import TEMPLATE

pytestmark = pytest.mark.browser

ROWS = "animal,image_url\ncat,https://img.example/1.jpg\ndog,https://img.example/2.jpg\n"


def _turn_on_two_factor(page: Any, user_id: int) -> None:
    """On the security page the role sent them to: enrol an authenticator app."""
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    secret = page.locator("#totp-secret").inner_text()
    TOTPDevice.objects.filter(user_id=user_id).update(last_t=-1, throttling_failure_count=0)
    page.get_by_label("Code").fill(f"{totp(base64.b32decode(secret)):06d}")
    page.get_by_role("button", name="Confirm and turn on").click()
    assert "On: sign-in asks for a code" in page.locator("#two-factor-status").inner_text()
    # Back to where the role's page sent them from, once the backup codes are written down.
    page.get_by_role("link", name="Codes written down: continue where I was going").click()


def test_new_requester_registers_is_verified_funds_and_publishes(open_page, screenshot, settings) -> None:
    settings.SECOND_FACTOR_REQUIRED_FOR_ROLES = True
    verifier = staff_member("verifier")
    treasurer = staff_member("treasurer")

    page = open_page()
    page.goto("/")
    nav(page, "Register")
    page.get_by_label("User name").fill("heron")
    page.get_by_label("E-mail address").fill("ada@heron.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Signed in as heron").wait_for()
    screenshot(page, "home")

    # From the home page to a new organisation.
    page.get_by_role("link", name="Register an organisation").click()
    page.get_by_label("Legal name").fill("Heron Research")
    page.get_by_label("Public name").fill("Heron")
    page.get_by_label("Country").fill("FR")
    page.get_by_label("Contact email").fill("lab@heron.example")
    page.get_by_role("button", name="Register").click()
    organisation = Organisation.objects.get(display_name="Heron")
    # An owner's pages wait for the second factor.
    page.wait_for_url(re.compile(r"/account/security/"))
    _turn_on_two_factor(page, organisation.staff.get().user_id)
    page.wait_for_url(re.compile(f"/org/{organisation.slug}/$"))
    assert page.locator("#dashboard-verification").inner_text().startswith("Not submitted")

    page.get_by_role("link", name="Verification", exact=True).click()
    page.get_by_label("Legal name").fill("Heron Research SAS")
    page.get_by_label("Country of registration").fill("FR")
    page.get_by_label("Registration or tax number").fill("RCS 123 456 789")
    page.get_by_label("Registered address").fill("3 rue des Hérons\n75011 Paris")
    page.get_by_label("Responsible person").fill("Ada Héron")
    page.get_by_role("button", name="Send for verification").click()
    assert page.locator("#verification-state").inner_text() == "Submitted: a verifier will check it."

    # The verifier: the staff pages first ask for the second factor.
    console = open_page(verifier)
    nav(console, "Staff console")
    console.wait_for_url(re.compile(r"/account/security/"))
    _turn_on_two_factor(console, verifier.pk)
    console.get_by_role("link", name="Verification queue").first.click()
    console.get_by_role("link", name="Heron").click()
    console.get_by_label("Reason (kept in the audit log)").fill("Register entry RCS 123 456 789 matches.")
    console.get_by_role("button", name="Approve").click()
    console.get_by_text("Heron is verified.").wait_for()
    organisation.refresh_from_db()
    assert organisation.is_verified

    # Back to the dashboard by the navigation, then funds by bank transfer.
    nav(page, "Heron")
    assert page.locator("#dashboard-verification").inner_text() == "Verified: you can publish batches."
    page.get_by_role("link", name="Funds", exact=True).click()
    page.get_by_label("Amount").fill("10.00")
    page.get_by_role("button", name="Continue").click()
    reference = page.locator("#reference").inner_text()
    treasury = open_page(treasurer)
    nav(treasury, "Treasury")
    treasury.wait_for_url(re.compile(r"/account/security/"))
    _turn_on_two_factor(treasury, treasurer.pk)
    treasury.get_by_role("button", name=f"Confirm deposit {reference}").click()
    assert Deposit.objects.get(reference=reference).credited_amount == 1000

    # A batch, from the dashboard, published.
    nav(page, "Heron")
    page.get_by_role("link", name=re.compile("New batch|Create a batch", re.I)).first.click()
    page.get_by_label("Title").fill("Label animals")
    page.get_by_label("Instructions").fill("Say whether the picture shows the animal named.")
    page.get_by_label("Purpose", exact=True).fill("Training data for a wildlife camera classifier.")
    page.get_by_label("How the data will be used").fill("Training an open model; no personal data.")
    page.get_by_label("Reward per assignment").fill("0.50")
    page.get_by_label("Workers per task").fill("1")
    page.get_by_label("Estimated minutes per assignment").fill("2")
    page.get_by_label("Time allotted (minutes)").fill("10")
    page.get_by_label("Input rows (CSV or JSON)").set_input_files(
        files=[{"name": "rows.csv", "mimeType": "text/csv", "buffer": ROWS.encode()}]
    )
    page.get_by_label("Task template (HTML)").fill(TEMPLATE)
    page.get_by_role("button", name="Save draft").click()
    page.locator("#operation[data-state=done]").wait_for()
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name=re.compile("Publish and reserve")).click()
    assert page.locator("#batch-status").inner_text() == "Published"
    batch = Batch.objects.get()
    assert (batch.organisation_id, batch.status) == (organisation.pk, "published")
    screenshot(page, "published")
    nav(page, "Heron")
    assert "Label animals" in page.locator("main").inner_text()
