"""Signed HTTP callbacks: the one way the platform POSTs events to others' servers (the
MTurk endpoint's notifications and requesters' webhooks).

A delivery is a POST of a JSON body with the header
``X-Coop-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` under a secret
the receiver shares; the receiver checks the signature and refuses old timestamps (a
replayed delivery). Destinations must be https and public: a private, link-local,
reserved or loopback address is refused (loopback is allowed in development and tests).
Failures are retried by the caller after ``retry_delay``.
"""

import hashlib
import hmac
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8


def loopback_allowed() -> bool:
    # Development and tests receive callbacks on the same machine; production never
    # POSTs to its own loopback interface on someone's behalf.
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", settings.DEBUG or settings.TESTING))


def destination_problem(destination: str, *, allow_loopback: bool | None = None) -> str | None:
    """Why ``destination`` may not receive callbacks, or None when it may."""
    parts = urlsplit(destination)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return "The URL must be an https:// address with a host name."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    is_loopback = host == "localhost" or (address is not None and address.is_loopback)
    if is_loopback:
        allowed = loopback_allowed() if allow_loopback is None else allow_loopback
        return None if allowed else "The URL points at this machine (a loopback address)."
    if address is not None and (
        address.is_private or address.is_link_local or address.is_reserved or address.is_multicast
    ):
        return "The URL points at a private or reserved address; use a public https:// address."
    if parts.scheme != "https":
        return "The URL must use https://."
    return None


def resolves_publicly(destination: str) -> bool:
    """Whether every address the destination's host name resolves to is public (checked
    at delivery time, so a name later pointed at a private address is not POSTed to)."""
    host = urlsplit(destination).hostname or ""
    try:
        ipaddress.ip_address(host)
        return True  # a literal address was checked by destination_problem
    except ValueError:
        pass
    if host == "localhost":
        return loopback_allowed()
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return True  # not resolvable: the POST fails on its own and is retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback and loopback_allowed():
            continue
        if address.is_private or address.is_link_local or address.is_reserved or address.is_loopback:
            return False
    return True


def signature_header(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def signature_valid(secret: str, body: bytes, header: str, *, tolerance_seconds: int = 300) -> bool:
    """How a receiver checks a delivery (documented for integrators; used by the tests)."""
    stamp, _, digest = header.partition(",v1=")
    try:
        at = int(stamp.removeprefix("t="))
    except ValueError:
        return False
    if abs(time.time() - at) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature_header(secret, body, at).partition(",v1=")[2], digest)


def post_signed(*, destination: str, body: bytes, secret: str, headers: dict[str, str]) -> str:
    """POSTs ``body`` signed with ``secret``; returns "" when the receiver answered 2xx,
    otherwise what went wrong (for the delivery log). Never raises for a network error."""
    problem = destination_problem(destination)
    if problem is None and not resolves_publicly(destination):
        problem = "The host name resolves to a private address."
    if problem:
        return f"the destination is no longer allowed: {problem}"
    request = urllib.request.Request(  # noqa: S310 - destination_problem checked the scheme
        destination,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            **headers,
            "X-Coop-Signature": signature_header(secret, body, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                return f"HTTP {response.status}"
    except urllib.error.HTTPError as failure:
        return f"HTTP {failure.code}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        return str(failure)[:500] or type(failure).__name__
    return ""


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed delivery: 1, 2, 4 ... minutes, at most 6 hours."""
    return min(timedelta(seconds=30 * 2**attempts), timedelta(hours=6))
