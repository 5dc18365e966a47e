"""Issue 19 point 12: passkeys (WebAuthn) as a second factor. The real ceremony (a browser's
signed answers) is tested in tests/frontend/test_passkeys_browser.py with Chrome's virtual
authenticator; here, the rules around it: a passkey is a second factor wherever one is
asked for, adding one needs a fresh (second-factor) sign-in, a forged answer keeps nothing,
and the last second factor of a role that requires one cannot be removed."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from webauthn.helpers import bytes_to_base64url

from accounts import passkeys, two_factor
from accounts.middleware import second_factor_missing
from accounts.models import User, WebAuthnDevice
from accounts.reauthentication import FreshSignIn, fresh_sign_in_with_password
from core.errors import AppError
from notifications.models import Notification
from tests.factories import PASSWORD, UserFactory, signed_in_now

pytestmark = pytest.mark.django_db

SITE = passkeys.Site(rp_id="localhost", origin="http://localhost:8000")


def _passkey(user: User, name: str = "phone") -> WebAuthnDevice:
    """A stored passkey (as ``passkey_register`` keeps one after the browser's answer)."""
    return WebAuthnDevice.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=bytes_to_base64url(f"cred-{name}-{user.pk}".encode()),
        public_key=b"\x01",
    )


def test_a_passkey_is_a_second_factor_for_the_roles_that_require_one(settings: Any, requester: User) -> None:
    settings.SECOND_FACTOR_REQUIRED_FOR_ROLES = True
    assert not two_factor.two_factor_enabled(requester)
    _passkey(requester)
    assert two_factor.two_factor_enabled(requester) and not two_factor.totp_enabled(requester)
    # Signed in without passing it: the organisation waits; with it: open.
    assert second_factor_missing(user=requester, path="/org/x/", verified=lambda: False)
    assert not second_factor_missing(user=requester, path="/org/x/", verified=lambda: True)


def test_registration_options_need_a_fresh_sign_in(requester: User) -> None:
    page = Client()
    page.force_login(requester)
    session = page.session
    session["accounts:signed_in_at"] = (timezone.now() - timedelta(hours=1)).isoformat()
    session.save()
    refused = page.post("/account/security/passkeys/options/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "reauthentication_required"
    assert "accounts:passkey_registration" not in page.session


def test_registration_options_exclude_the_persons_passkeys_and_keep_the_challenge(requester: User) -> None:
    laptop = _passkey(requester, "laptop")
    page = Client()
    page.force_login(requester)
    unverified = page.post("/account/security/passkeys/options/")
    assert unverified.status_code == 403  # a second factor exists: the session must have passed it
    session = page.session
    session["otp_device_id"] = laptop.persistent_id  # as django-otp's login() records it
    session.save()
    options = page.post("/account/security/passkeys/options/")
    assert options.status_code == 200, options.content
    body = options.json()
    assert body["rp"] == {"id": "testserver", "name": "Co-op crowdwork"}
    assert [item["id"] for item in body["excludeCredentials"]] == [laptop.credential_id]
    assert page.session["accounts:passkey_registration"] == body["challenge"]


def test_a_forged_registration_keeps_nothing(requester: User) -> None:
    ceremony = passkeys.passkey_registration_options(user=requester, site=SITE)
    forged = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"clientDataJSON": "e30"}}
    with pytest.raises(AppError) as refused:
        passkeys.passkey_register(
            user=requester,
            credential=forged,
            challenge=ceremony.challenge,
            site=SITE,
            name="fake",
            fresh_sign_in=signed_in_now(requester),
        )
    assert refused.value.code == "invalid_passkey"
    assert not WebAuthnDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not Notification.objects.filter(category="passkey_added").exists()


def test_adding_a_passkey_to_an_account_with_a_second_factor_needs_it_passed(worker: User) -> None:
    _passkey(worker, "first")
    unverified = FreshSignIn(user_id=worker.pk, at=timezone.now(), second_factor=False)
    with pytest.raises(AppError) as refused:
        passkeys.passkey_register(
            user=worker, credential={}, challenge="x", site=SITE, name="second", fresh_sign_in=unverified
        )
    assert refused.value.code == "reauthentication_required"
    assert WebAuthnDevice.objects.filter(user=worker).count() == 1


def test_an_answer_for_another_persons_passkey_is_refused(worker: User) -> None:
    other: User = UserFactory()
    theirs = _passkey(other)
    with pytest.raises(AppError) as refused:
        passkeys.passkey_verify(
            user=worker, credential={"id": theirs.credential_id}, challenge="Y2hhbGxlbmdl", site=SITE
        )
    assert refused.value.code == "invalid_passkey"


def test_the_last_second_factor_of_an_owner_stays(requester: User) -> None:
    only = _passkey(requester)
    with pytest.raises(AppError) as refused:
        passkeys.passkey_remove(user=requester, passkey_id=only.pk, session_verified=True)
    assert refused.value.code == "second_factor_required_for_role"
    assert WebAuthnDevice.objects.filter(pk=only.pk).exists()
    with pytest.raises(AppError) as unverified:
        passkeys.passkey_remove(user=requester, passkey_id=only.pk, session_verified=False)
    assert unverified.value.code == "second_factor_needed"


def test_removing_the_last_passkey_turns_two_factor_off_and_tells_the_person(
    worker: User, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    only = _passkey(worker, "old key")
    StaticDevice.objects.create(user=worker, name="backup codes")
    with django_capture_on_commit_callbacks(execute=True):
        passkeys.passkey_remove(user=worker, passkey_id=only.pk, session_verified=True)
    assert not two_factor.two_factor_enabled(worker)
    assert Notification.objects.get(user=worker).category == "passkey_removed"
    assert [m.subject for m in mail.outbox] == ["A passkey was removed from your account"]
    with pytest.raises(AppError) as missing:
        passkeys.passkey_remove(user=UserFactory(), passkey_id=_passkey(worker, "new").pk, session_verified=True)
    assert missing.value.code == "not_found"


def test_a_passkey_session_renews_its_sign_in_with_the_password_alone(worker: User) -> None:
    _passkey(worker)
    with pytest.raises(AppError):
        fresh_sign_in_with_password(user=worker, password=PASSWORD)  # no code, session not verified
    proof = fresh_sign_in_with_password(user=worker, password=PASSWORD, session_second_factor=True)
    assert proof.second_factor is True
    with pytest.raises(AppError):
        fresh_sign_in_with_password(user=worker, password="wrong", session_second_factor=True)


def test_passkeys_are_in_the_personal_data_and_go_with_erasure(worker: User) -> None:
    import io
    import json
    import zipfile

    from accounts import personal_data

    _passkey(worker, "my phone")
    archive = zipfile.ZipFile(io.BytesIO(personal_data.personal_data_export(user=worker)))
    account = json.loads(archive.read("account.json"))
    assert [row["name"] for row in account["passkeys"]] == ["my phone"]
    personal_data.personal_data_erase(user=worker, fresh_sign_in=signed_in_now(worker))
    assert not WebAuthnDevice.objects.filter(user=worker).exists()
