"""API tokens read through the cache: one query the first time, none after; what
changes a person's access (suspension, an admin's edit or deletion) takes effect at once."""

from typing import Any

import pytest
from django.contrib import admin
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.authentication import _read_token, _token_cache_key
from accounts.models import User
from disputes import services as dispute_services
from tests.factories import UserFactory, staff_member

pytestmark = pytest.mark.django_db


def token_client(user: User) -> tuple[APIClient, str]:
    key = Token.objects.create(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_a_token_is_read_once_then_from_the_cache(worker: User, django_assert_num_queries: Any) -> None:
    client, key = token_client(worker)
    # The token with its person, the person's language and time zone (cached from then on
    # too: notifications.reading), then /api/me/'s one.
    with django_assert_num_queries(3):
        assert client.get("/api/me/").json()["username"] == worker.username
    with django_assert_num_queries(1):
        assert client.get("/api/me/").json()["username"] == worker.username
    cached = cache.get(_token_cache_key(key))
    assert cached.user.pk == worker.pk
    assert "password" not in cached.user.__dict__  # the hash never goes to the cache
    assert key not in str(list(getattr(cache, "_cache", {}).keys()))  # nor the token in clear


def test_an_unknown_token_is_refused_every_time(api: APIClient) -> None:
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    for _ in range(2):
        response = api.get("/api/me/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
    assert cache.get(_token_cache_key("0" * 40)) is None


def test_a_suspension_shows_on_the_next_request(worker: User) -> None:
    client, _ = token_client(worker)
    assert client.get("/api/me/").json()["suspended"] is False
    staff = staff_member("moderator")
    dispute_services.user_suspend(user=worker, actor=staff, code="fraudulent_work", reason="Copied answers.")
    me = client.get("/api/me/").json()
    # ``suspended`` is read from the authenticated person: the cached copy was dropped.
    assert me["suspended"] is True and me["suspension_reason"].endswith(" Copied answers.")


def test_an_admin_deactivating_or_deleting_a_person_locks_their_token_out_at_once(worker: User) -> None:
    client, _ = token_client(worker)
    second = UserFactory()
    second_client, _ = token_client(second)
    assert client.get("/api/me/").status_code == 200
    assert second_client.get("/api/me/").status_code == 200
    user_admin = admin.site._registry[User]
    worker.is_active = False
    user_admin.save_model(None, worker, None, True)
    assert client.get("/api/me/").status_code == 401
    user_admin.delete_queryset(None, User.objects.filter(pk=second.pk))
    assert second_client.get("/api/me/").status_code == 401


def test_without_the_cache_every_request_reads_the_token(
    worker: User, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.TOKEN_CACHE_SECONDS = 0
    client, key = token_client(worker)
    for queries in (3, 2):  # the person's language and zone are still cached after the first
        with django_assert_num_queries(queries):
            assert client.get("/api/me/").status_code == 200
    assert cache.get(_token_cache_key(key)) is None


def test_a_token_is_read_with_its_person_as_the_orm_reads_them_but_the_password_hash(worker: User) -> None:
    key = Token.objects.create(user=worker).key
    token = _read_token(key)
    assert token is not None and (token.key, token.user_id) == (key, worker.pk)
    fields = [field.attname for field in User._meta.concrete_fields if field.name != "password"]
    stored = User.objects.get(pk=worker.pk)
    assert [getattr(token.user, name) for name in fields] == [getattr(stored, name) for name in fields]
    assert "password" not in token.user.__dict__
    assert token.created == Token.objects.get(key=key).created  # read when asked
    assert _read_token("0" * 40) is None
