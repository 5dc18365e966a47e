"""API-key authentication for requester organisations.

Header: ``Authorization: ApiKey <access key id>:<secret>``. The request acts as the
key's creator, limited to the key's organisation (``request.auth`` is the key).
"""

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.keys import secret_matches
from accounts.models import ApiKey
from accounts.selectors import api_key_active


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "ApiKey"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header.startswith(self.keyword + " "):
            return None
        credentials = header[len(self.keyword) + 1 :].strip()
        access_key_id, _, secret = credentials.partition(":")
        if not access_key_id or not secret:
            raise exceptions.AuthenticationFailed("Send 'ApiKey <access key id>:<secret>'.")
        key = api_key_active(access_key_id=access_key_id)
        if key is None or not secret_matches(secret, key.secret_hash):
            raise exceptions.AuthenticationFailed("Unknown, revoked or wrong API key.")
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
