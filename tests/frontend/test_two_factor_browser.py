"""Two-factor enrolment and sign-in with a code, in headless Chromium."""

import base64

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret: str, user_id: int) -> str:
    # Each step is a new time step for the device (django-otp refuses a code twice).
    TOTPDevice.objects.filter(user_id=user_id).update(last_t=-1, throttling_failure_count=0)
    return f"{totp(base64.b32decode(secret)):06d}"


def test_a_person_turns_on_two_factor_and_signs_in_with_a_code(open_page, screenshot, live_server) -> None:
    person = UserFactory()
    page = open_page(person)
    page.goto("/account/security/")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator(".qr svg").count() == 1
    screenshot(page, "enrol")
    page.get_by_label("Code").fill(_code(secret, person.pk))
    page.get_by_role("button", name="Confirm and turn on").click()
    assert page.locator(".backup-codes li").count() == 10
    assert "On: sign-in asks for a code" in page.locator("#two-factor-status").inner_text()

    fresh = open_page()
    fresh.goto("/accounts/login/")
    fresh.get_by_label("Username").fill(person.username)
    fresh.get_by_label("Password").fill(PASSWORD)
    fresh.get_by_role("button", name="Sign in").click()
    fresh.wait_for_url(live_server.url + "/accounts/login/verify/")
    fresh.get_by_label("Code from your authenticator app (or a backup code)").fill("000000")
    fresh.get_by_role("button", name="Sign in").click()
    assert "That code is not right" in fresh.content()
    fresh.get_by_label("Code from your authenticator app (or a backup code)").fill(_code(secret, person.pk))
    fresh.get_by_role("button", name="Sign in").click()
    fresh.wait_for_url(live_server.url + "/")
    fresh.goto("/account/security/")
    assert "This session is confirmed." in fresh.locator("#two-factor-status").inner_text()
    screenshot(fresh, "signed-in")
