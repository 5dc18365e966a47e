"""API authentication: organisations' API keys, and people's tokens.

``ApiKey``: header ``Authorization: ApiKey <access key id>:<secret>``. The request is
the key's organisation, never a person: ``request.user`` is an ``OrganisationPrincipal``
(``request.auth`` the key). Personal endpoints refuse it (``accounts.permissions``);
organisation endpoints declare ``accepts_organisation_keys = True`` and act for the
organisation, attributing their audit rows to the key's creator (``request_actor``).

``Token``: DRF's token authentication (``Authorization: Token <key>``), with each token
and its person kept in the cache for ``TOKEN_CACHE_SECONDS``.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from accounts.keys import secret_matches
from accounts.models import ApiKey, Organisation, User
from accounts.selectors import api_key_active


class OrganisationPrincipal:
    """Who a request signed with an organisation's API key is: the organisation.

    Deliberately not a ``User``: code that wants a person (payouts, profile, membership,
    votes, work, juror duty) cannot be handed one by mistake. ``accountable_person`` is the
    key's creator, still on the organisation's staff (``api_key_active`` checks it), named
    in the audit rows of what the key does for the organisation and whose organisation
    permissions bound the key's; it is never the identity a personal action is taken as.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key

    @property
    def organisation(self) -> Organisation:
        return self.key.organisation

    @property
    def accountable_person(self) -> User:
        return self.key.created_by

    @property
    def throttle_ident(self) -> str:
        return f"key:{self.key.pk}"

    def __str__(self) -> str:
        return f"API key {self.key.access_key_id} of {self.key.organisation.slug}"


def is_organisation_key(request: Request) -> bool:
    """Whether the request is authenticated with an organisation's API key."""
    return isinstance(getattr(request, "user", None), OrganisationPrincipal)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "ApiKey"

    def authenticate(self, request: Request) -> tuple[OrganisationPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header.startswith(self.keyword + " "):
            return None
        credentials = header[len(self.keyword) + 1 :].strip()
        access_key_id, _colon, secret = credentials.partition(":")
        if not access_key_id or not secret:
            raise exceptions.AuthenticationFailed(_("Send 'ApiKey <access key id>:<secret>'."))
        key = api_key_active(access_key_id=access_key_id)
        if key is None or not secret_matches(secret, key.secret_hash):
            raise exceptions.AuthenticationFailed(_("Unknown, revoked or wrong API key."))
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        language = key.organisation.language
        if language and translation.check_for_language(language):
            # The organisation chose the language its programs are answered in.
            translation.activate(language)
            request._request.LANGUAGE_CODE = translation.get_language()
        return OrganisationPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


# A token's person without the password hash (it never goes to the cache), in one
# statement. Plain SQL: the same read through the ORM (the token with its person joined and
# the hash deferred) cost five times as much to build as to run, on every request of a
# token not cached (a worker rushing a fresh batch).
_TOKEN_SQL = "SELECT {person} FROM {token} t JOIN {user} u ON u.id = t.user_id WHERE t.key = %s"


def _read_token(key: str) -> Token | None:
    """The token ``key`` with its person (their password hash not read), or None. The
    token's date is left unread (Django reads it if asked)."""
    person = ", ".join(
        f"u.{connection.ops.quote_name(field.column)}"
        for field in User._meta.concrete_fields
        if field.name != "password"
    )
    sql = _TOKEN_SQL.format(person=person, token=Token._meta.db_table, user=User._meta.db_table)
    user = next(iter(User.objects.raw(sql, [key])), None)
    if user is None:
        return None
    token = Token.from_db(connection.alias, ["key", "user_id"], [key, user.pk])
    token.user = user
    return token


def _token_cache_key(key: str) -> str:
    # The token itself is a credential: the cache only ever sees its hash.
    return "auth:token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading each token and its person from the cache.

    Every API request authenticates, and the token query was its most expensive part
    (about 0.85 ms of the server's time, against 0.3 ms for one cache read). The cached
    copy holds the token and the person's row without the password hash, for
    ``TOKEN_CACHE_SECONDS`` (0: no cache). Whatever changes what a person may do through
    the API drops it at once (``forget_tokens``: suspension and its lifting); the rules,
    memberships and organisation access are read afresh on every request, not cached here.
    """

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        seconds = settings.TOKEN_CACHE_SECONDS
        if seconds <= 0:
            return super().authenticate_credentials(key)  # type: ignore[no-any-return]
        cache_key = _token_cache_key(key)
        token: Token | None = cache.get(cache_key)
        if token is None:
            token = _read_token(key)
            if token is None:
                raise exceptions.AuthenticationFailed("Invalid token.")
            cache.set(cache_key, token, timeout=seconds)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


def forget_tokens(*, user: User) -> None:
    """Drops the cached copies of ``user``'s tokens, now and once more when the current
    transaction commits (a request reading the old row meanwhile may have cached it again)."""
    keys = [_token_cache_key(key) for key in Token.objects.filter(user=user).values_list("key", flat=True)]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))
