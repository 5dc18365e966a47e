"""A new person registers, creates an organisation, sends its verification with a document,
a verifier approves it in the staff console, the treasurer confirms the requester's bank
transfer and the requester publishes a batch. In a real browser."""

import re
from pathlib import Path

import pytest

from accounts.models import Organisation, OrganisationVerification, User
from payments.models import Deposit
from tasks.models import Batch
from tests.factories import PASSWORD, staff_member
from tests.frontend.conftest import nav
from tests.tasks.factories import TEMPLATE

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% register extract of Kestrel Labs\n"
ROWS = "animal,image_url\ncat,https://img.example/1.jpg\ndog,https://img.example/2.jpg\n"


def test_a_new_requester_is_verified_funds_and_publishes(open_page, screenshot) -> None:
    verifier = staff_member("verifier")
    treasurer = staff_member("treasurer")

    # Registration and the organisation.
    page = open_page()
    page.goto("/accounts/register/")
    page.get_by_label("User name").fill("kestrel")
    page.get_by_label("E-mail address").fill("lena@kestrel.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Signed in as kestrel").wait_for()
    page.goto("/org/new/")
    page.get_by_label("Legal name").fill("Kestrel Labs")
    page.get_by_label("Public name").fill("Kestrel")
    page.get_by_label("Country").fill("DE")
    page.get_by_label("Contact email").fill("lab@kestrel.example")
    page.get_by_role("button", name="Register").click()
    organisation = Organisation.objects.get(display_name="Kestrel")
    assert page.locator("#dashboard-verification").inner_text().startswith("Not submitted")

    # The verification: a file that is not really a PDF is refused and nothing is kept.
    page.get_by_role("link", name="Verification", exact=True).click()
    page.get_by_label("Legal name").fill("Kestrel Labs GmbH")
    page.get_by_label("Country of registration").fill("DE")
    page.get_by_label("Registration or tax number").fill("HRB 424242")
    page.get_by_label("Registered address").fill("Falkenweg 3\n10115 Berlin")
    page.get_by_label("Responsible person").fill("Dr. Lena Kestrel")
    page.get_by_label("Documents (optional)").set_input_files(
        files=[{"name": "extract.pdf", "mimeType": "application/pdf", "buffer": b"<html>not a pdf</html>"}]
    )
    page.get_by_role("button", name="Send for verification").click()
    page.get_by_text("extract.pdf is not a PDF, PNG or JPEG file").first.wait_for()
    assert OrganisationVerification.objects.count() == 0
    page.get_by_label("Documents (optional)").set_input_files(
        files=[{"name": "extract.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send for verification").click()
    assert page.locator("#verification-state").inner_text() == "Submitted: a verifier will check it."
    screenshot(page, "submitted")

    # The verifier reads the request, downloads the document and approves with a reason.
    console = open_page(verifier)
    nav(console, "Staff console")
    console.get_by_role("link", name="Verification queue").first.click()
    console.get_by_role("link", name="Kestrel").click()
    with console.expect_download() as download:
        console.get_by_role("link", name="extract.pdf").click()
    assert download.value.suggested_filename == "extract.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
    console.get_by_role("button", name="Approve").click()
    console.get_by_text("This field is required.").wait_for()  # no reason, no approval
    organisation.refresh_from_db()
    assert not organisation.is_verified
    console.get_by_label("Reason (kept in the audit log)").fill("Register entry HRB 424242 matches.")
    console.get_by_role("button", name="Approve").click()
    console.get_by_text("Kestrel is verified.").wait_for()
    screenshot(console, "approved")
    organisation.refresh_from_db()
    assert organisation.is_verified and organisation.legal_name == "Kestrel Labs GmbH"

    page.goto(f"/org/{organisation.slug}/")
    assert page.locator("#dashboard-verification").inner_text() == "Verified: you can publish batches."

    # Funding by bank transfer, confirmed by the treasurer.
    page.get_by_role("link", name="Funds", exact=True).click()
    page.get_by_label("Amount").fill("10.00")
    page.get_by_role("button", name="Continue").click()
    reference = page.locator("#reference").inner_text()
    treasury = open_page(treasurer)
    nav(treasury, "Treasury")
    treasury.get_by_role("button", name=f"Confirm deposit {reference}").click()
    assert f"Deposit {reference} confirmed" in treasury.locator(".messages").inner_text()
    assert Deposit.objects.get(reference=reference).credited_amount == 1000

    # A batch, published.
    page.goto(f"/org/{organisation.slug}/batches/new/")
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
    screenshot(page, "published")
    batch = Batch.objects.get()
    assert (batch.organisation_id, batch.status) == (organisation.pk, "published")
    assert User.objects.get(username="kestrel").organisation_roles.get().role == "owner"
