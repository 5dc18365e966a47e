"""Web Push to a worker's browsers (VAPID keys from the environment, ``pywebpush``)."""

import json
import logging
from typing import Any

from django.conf import settings
from pywebpush import WebPushException, webpush

from notifications.models import PushSubscription

logger = logging.getLogger(__name__)


def requests_session() -> Any:
    """The HTTP session posts go through (``None``: pywebpush's own). Tests replace it."""
    return None


def push_configured() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY)


def push_send(*, subscription: PushSubscription, payload: dict[str, Any]) -> bool:
    """Encrypts ``payload`` for the browser (aes128gcm) and posts it to its push service.
    A subscription the service says is gone (404/410) is deleted."""
    if not push_configured():
        return False
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload),
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=86_400,
            requests_session=requests_session(),
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in (404, 410):
            PushSubscription.objects.filter(pk=subscription.pk).delete()
        else:
            logger.warning("web push to subscription %s failed: %s", subscription.pk, error)
        return False
    return True
