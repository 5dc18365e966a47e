"""Bounces and complaints from the mail provider.

Anymail's tracking webhook view (``/webhooks/anymail/<provider>/tracking/``) verifies the
provider's webhook secret or signature and sends its ``tracking`` signal; this receiver
(anymail's only way to hand over events) calls the service that stops mail to the address.
"""

from typing import Any

SUPPRESSING_EVENTS = {"bounced": "bounced", "rejected": "bounced", "complained": "complained"}


def on_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    from notifications.services import email_suppress

    reason = SUPPRESSING_EVENTS.get(getattr(event, "event_type", ""))
    if reason and event.recipient:
        email_suppress(address=event.recipient, reason=reason, event_id=event.event_id or "")


def connect() -> None:
    from anymail.signals import tracking

    tracking.connect(on_tracking, dispatch_uid="notifications.tracking")
