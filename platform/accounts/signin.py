"""Sign-in throttled per account as well as per address.

Guessing one person's password from many addresses is stopped by counting failed
sign-ins per account name: after ``SIGNIN_ACCOUNT_FAILURES`` failures within
``SIGNIN_ACCOUNT_WINDOW_SECONDS`` the account name is locked for
``SIGNIN_LOCKOUT_SECONDS``; during the lock every attempt, the right password included,
gets the same refusal, and the account's owner is told by e-mail (once per lock).

No enumeration: names are counted whether or not an account has them, and the answers
(the refusal's text, its status, the lock) are the same for an unknown name as for a
real one. Only the e-mail differs, and it goes to the account's own address.

Counters live in the default cache (Redis in production), keyed by a hash of the
normalised name. Web sign-in (``frontend.views.public.LoginView``) and the API's token
endpoint (``accounts.api.TokenView``) both use this module; so does the second-factor
step, whose failed codes count against the same account.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from accounts.security_notices import security_notice_send
from core.throttling import count_request


def locked_message() -> str:
    """The one answer to a locked name, the same whether or not an account has it."""
    minutes = max(1, int(settings.SIGNIN_LOCKOUT_SECONDS) // 60)
    return f"Too many failed sign-in attempts for this account; wait {minutes} minutes and try again."


def _name_key(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()


def signin_locked(*, username: str) -> bool:
    """Whether sign-in with ``username`` is locked now (for any name, real or not)."""
    return bool(username) and cache.get(f"signin:locked:{_name_key(username)}") is not None


def signin_failed(*, username: str) -> bool:
    """Records a failed sign-in for ``username``; locks the name once it has failed
    too often in the window, e-mailing the account's owner. Returns whether it is locked."""
    if not username:
        return False
    name = _name_key(username)
    window = int(settings.SIGNIN_ACCOUNT_WINDOW_SECONDS)
    now = int(time.time())
    failures = count_request(f"signin:failures:{name}:{now - now % window}", window + 1)
    if failures < int(settings.SIGNIN_ACCOUNT_FAILURES):
        return False
    lockout = int(settings.SIGNIN_LOCKOUT_SECONDS)
    if cache.add(f"signin:locked:{name}", now, timeout=lockout):  # first to lock: tell the owner once
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is not None:
            security_notice_send(
                user=user,
                category="signin_locked",
                params={"username": user.username, "failures": failures, "minutes": lockout // 60},
            )
    return True


def signin_succeeded(*, username: str) -> None:
    """Forgets the failures counted so far in this window for ``username``."""
    if username:
        window = int(settings.SIGNIN_ACCOUNT_WINDOW_SECONDS)
        now = int(time.time())
        cache.delete(f"signin:failures:{_name_key(username)}:{now - now % window}")
