"""Passkeys (WebAuthn) as the second factor, end to end in headless Chromium with Chrome
DevTools' virtual authenticator (a CTAP2 platform authenticator that verifies its user):
an organisation owner, whose role requires a second factor, adds a passkey on the security
page and then signs in with it; the browser's real signed answers are checked by the server
(py_webauthn). A replayed answer and a forged one are refused."""

import json
from typing import Any

import pytest

from accounts.models import WebAuthnDevice
from core.models import AuditEvent
from notifications.models import Notification
from tests.factories import PASSWORD, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _post_json(page: Any, url: str, body: str) -> dict[str, Any]:
    return page.evaluate(
        """async ([url, body]) => {
            const token = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
            const response = await fetch(url, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(token)}, body});
            return {status: response.status, data: await response.json()};
        }""",
        [url, body],
    )


def test_an_owner_adds_a_passkey_and_signs_in_with_it(open_page, screenshot, live_server, settings) -> None:
    settings.SECOND_FACTOR_REQUIRED_FOR_ROLES = True
    organisation = OrganisationFactory()
    owner = organisation.staff.get(role="owner").user
    page = open_page(owner)
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.post_data or "") if request.url.endswith("/accounts/passkey/verify/") else None
        ),
    )
    cdp, authenticator = _virtual_authenticator(page)

    # The role requires a second factor: the organisation's pages send the owner to security.
    page.goto(f"/org/{organisation.slug}/")
    assert page.url.startswith(live_server.url + "/account/security/")

    page.get_by_label("Name of the passkey").fill("work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector(".passkeys .passkey-name")
    assert page.locator(".passkeys .passkey-name").all_inner_texts() == ["work laptop"]
    assert page.locator(".backup-codes li").count() == 10  # the first second factor: backup codes, once
    screenshot(page, "added")
    device = WebAuthnDevice.objects.get(user=owner)
    (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["rpId"] == "localhost" and credential["isResidentCredential"] is True
    assert AuditEvent.objects.filter(action="passkey.added", actor=owner).count() == 1
    assert Notification.objects.filter(user=owner, category="passkey_added").count() == 1
    # Adding it verified this session: the organisation opens now.
    page.goto(f"/org/{organisation.slug}/")
    assert page.url == f"{live_server.url}/org/{organisation.slug}/"

    # A new sign-in (the same browser, so the same authenticator): password, then the passkey.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/accounts/login/verify/")
    # A forged answer is refused and counts as a failed sign-in; the sign-in can go on.
    forged = _post_json(
        page,
        "/accounts/passkey/verify/",
        json.dumps({"credential": {"id": device.credential_id, "rawId": device.credential_id, "type": "public-key"}}),
    )
    assert forged["status"] == 400 and forged["data"]["error"]["code"] == "invalid_passkey"
    screenshot(page, "verify")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(live_server.url + "/")
    device.refresh_from_db()
    assert device.last_used_at is not None
    page.goto(f"/org/{organisation.slug}/")
    assert page.url == f"{live_server.url}/org/{organisation.slug}/"

    # The browser's signed answer cannot be used again: its challenge was used up.
    signed = sent[-1]
    assert json.loads(signed)["credential"]["response"]["signature"]
    replayed = _post_json(page, "/accounts/passkey/verify/", signed)
    assert replayed["status"] == 400 and replayed["data"]["error"]["code"] == "invalid_passkey"
    page.goto("/account/security/")
    assert page.get_by_role("button", name="Remove").count() == 1  # a verified session may remove it
    screenshot(page, "signed-in")
