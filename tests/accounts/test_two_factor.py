"""Issue 19, point 12 (first half): two-factor authentication for everyone, required of
staff, treasurers and organisation owners before they use those functions."""

from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import two_factor
from accounts.models import Organisation, User
from accounts.services import treasurer_grant
from core.errors import AppError
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def code_for(user: User) -> str:
    """The app's current code. Each test step is a new time step: django-otp refuses a
    code it has seen (replay), so the device forgets the last one, as time passing would."""
    device = TOTPDevice.objects.filter(user=user).order_by("-id").first()
    assert device is not None
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    # django-otp also slows down every device after a wrong code; that wait is over too.
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def enrol(user: User) -> list[str]:
    two_factor.two_factor_enrol_start(user=user)
    return two_factor.two_factor_enrol_confirm(user=user, token=code_for(user))


def test_enrol_over_the_api_then_tokens_need_the_code(api: APIClient, worker: User) -> None:
    old_token = Token.objects.create(user=worker)
    api.force_authenticate(worker)
    assert api.get("/api/me/two-factor/").json() == {"enabled": False, "required": False}
    started = api.post("/api/me/two-factor/enrol/")
    assert started.status_code == 201
    body = started.json()
    assert body["otpauth_url"].startswith("otpauth://totp/") and body["qr_svg"].startswith("<svg")
    assert len(body["secret"]) >= 16
    wrong = api.post("/api/me/two-factor/confirm/", {"otp": "000000"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"
    assert not TOTPDevice.objects.filter(user=worker, confirmed=True).exists()

    confirmed = api.post("/api/me/two-factor/confirm/", {"otp": code_for(worker)}, format="json")
    assert confirmed.status_code == 200
    codes = confirmed.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert not Token.objects.filter(key=old_token.key).exists()  # issued without the code: gone

    anonymous = APIClient()
    without = anonymous.post("/api/auth/token/", {"username": worker.username, "password": PASSWORD})
    assert without.status_code == 400 and without.json()["error"]["code"] == "otp_required"
    bad = anonymous.post("/api/auth/token/", {"username": worker.username, "password": PASSWORD, "otp": "123456"})
    assert bad.status_code == 400 and not Token.objects.filter(user=worker).exists()
    good = anonymous.post(
        "/api/auth/token/", {"username": worker.username, "password": PASSWORD, "otp": code_for(worker)}
    )
    assert good.status_code == 200 and good.json()["token"]
    # A backup code works once.
    Token.objects.filter(user=worker).delete()
    code_for(worker)  # time passes
    first = anonymous.post("/api/auth/token/", {"username": worker.username, "password": PASSWORD, "otp": codes[0]})
    assert first.status_code == 200
    again = anonymous.post("/api/auth/token/", {"username": worker.username, "password": PASSWORD, "otp": codes[0]})
    assert again.status_code == 400
    assert StaticToken.objects.filter(device__user=worker).count() == 9


def test_web_sign_in_asks_for_the_code_after_the_password(worker: User) -> None:
    enrol(worker)
    client = Client()
    step_one = client.post("/accounts/login/", {"username": worker.username, "password": PASSWORD})
    assert step_one.status_code == 302 and step_one["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session  # not signed in by the password alone
    wrong = client.post("/accounts/login/verify/", {"code": "000000"})
    assert wrong.status_code == 400 and "_auth_user_id" not in client.session
    right = client.post("/accounts/login/verify/", {"code": code_for(worker)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(worker.pk)
    assert client.get("/account/security/").context["verified"] is True


def test_disable_needs_a_code_and_is_refused_to_roles_that_require_it(worker: User, requester: User) -> None:
    enrol(worker)
    with pytest.raises(AppError) as error:
        two_factor.two_factor_disable(user=worker, token="000000")
    assert error.value.code == "invalid_code"
    assert two_factor.two_factor_enabled(worker)
    two_factor.two_factor_disable(user=worker, token=code_for(worker))
    assert not two_factor.two_factor_enabled(worker)

    enrol(requester)  # an organisation owner
    with pytest.raises(AppError) as error:
        two_factor.two_factor_disable(user=requester, token=code_for(requester))
    assert error.value.code == "second_factor_required_for_role"
    assert two_factor.two_factor_enabled(requester)


@pytest.fixture
def enforced(settings: Any) -> None:
    settings.SECOND_FACTOR_REQUIRED_FOR_ROLES = True


@pytest.mark.usefixtures("enforced")
def test_a_treasurer_uses_the_treasury_only_after_the_second_factor() -> None:
    treasurer: User = UserFactory()
    treasurer_grant(user=treasurer)
    api = APIClient()
    api.force_authenticate(treasurer)
    refused = api.get("/api/treasury/deposits/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "second_factor_required"
    page = Client()
    page.force_login(treasurer)
    redirected = page.get("/treasury/")
    assert redirected.status_code == 302 and redirected["Location"].startswith("/account/security/")
    # Personal pages stay open: the role's functions are what wait.
    assert page.get("/work/").status_code == 200

    enrol(treasurer)
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=treasurer).key}")
    assert token.get("/api/treasury/deposits/").status_code == 200
    # A session signed in before enrolling is confirmed with a code, then the treasury opens.
    assert page.get("/treasury/").status_code == 302
    confirmed = page.post("/account/security/", {"action": "verify", "code": code_for(treasurer), "next": "/treasury/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/treasury/"
    assert page.get("/treasury/").status_code == 200


@pytest.mark.usefixtures("enforced")
def test_an_owner_uses_the_organisation_only_after_the_second_factor(
    organisation: Organisation, requester: User
) -> None:
    api = APIClient()
    api.force_authenticate(requester)
    refused = api.post(f"/api/organisations/{organisation.slug}/api-keys/", {"label": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "second_factor_required"
    assert organisation.api_keys.count() == 0
    # An organisation's staff who is not an owner is not asked.
    staff: User = UserFactory()
    from accounts.services import organisation_staff_add

    organisation_staff_add(organisation=organisation, user=staff, actor=requester)
    helper = APIClient()
    helper.force_authenticate(staff)
    assert helper.get(f"/api/organisations/{organisation.slug}/batches/").status_code == 200


@pytest.mark.usefixtures("enforced")
@pytest.mark.parametrize("role", ["verifier", "moderator"])
def test_verifiers_and_moderators_act_only_after_the_second_factor(role: str) -> None:
    """They decide who may publish and who is suspended: the same protection as the treasurer."""
    from tests.factories import staff_member

    holder = staff_member(role)
    person: User = UserFactory()
    assert two_factor.second_factor_required(holder)
    api = APIClient()
    api.force_authenticate(holder)
    refused = api.post(
        f"/api/staff/people/{person.pk}/suspend/", {"code": "fraudulent_work", "reason": "Copied."}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "second_factor_required"
    assert api.get("/api/staff/verifications/").status_code == 403
    page = Client()
    page.force_login(holder)
    for path in ("/staff/verifications/", "/staff/people/"):
        redirected = page.get(path)
        assert redirected.status_code == 302 and redirected["Location"].startswith("/account/security/")
    suspend = page.post(
        f"/staff/people/{person.pk}/suspend/", {"suspend-code": "fraudulent_work", "suspend-reason": "x"}
    )
    assert suspend.status_code == 302 and suspend["Location"].startswith("/account/security/")
    person.refresh_from_db()
    assert not person.is_suspended

    enrol(holder)
    confirmed = page.post("/account/security/", {"action": "verify", "code": code_for(holder), "next": "/staff/"})
    assert confirmed.status_code == 302
    assert page.get("/staff/people/").status_code == 200
    with pytest.raises(AppError) as error:  # and they cannot turn it off while they hold the role
        two_factor.two_factor_disable(user=holder, token=code_for(holder))
    assert error.value.code == "second_factor_required_for_role"
