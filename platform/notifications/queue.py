"""Queues a registered job by name once the surrounding transaction commits, so services
never import job modules. (The platform-wide helper of issue 18 replaces this at merge.)"""

from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string


def queue_on_commit(name: str, *args: Any) -> None:
    def send() -> None:
        import_string(name).delay(*args)

    transaction.on_commit(send)
