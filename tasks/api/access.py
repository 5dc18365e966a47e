"""The one way in for the marketplace's endpoints: a requester's batch by guardian permission
(and an API key's own organisation), the signed-in user, the worker, a worker by pseudonym."""

from rest_framework.request import Request

from accounts.api import request_actor, request_user
from accounts.models import ApiKey, User
from accounts.selectors import require_organisation_capability
from core.errors import NotFound
from tasks import selectors
from tasks.models import Batch


def batch_for_request(request: Request, batch_id: int, permission: str = "tasks.view_batch") -> Batch:
    """The one way in to a batch for requester endpoints: guardian permission through the
    organisation's staff group and, for an API key, the key's own organisation; changing
    a batch needs the ``publish`` capability, reviewing it ``review`` (team role or key scope)."""
    batch = selectors.access_batch(user=_user(request), batch_id=batch_id, permission=permission)
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None and key.organisation_id != batch.organisation_id:
        raise NotFound("batch")
    capability = selectors.BATCH_PERMISSION_CAPABILITY.get(permission)
    if capability is not None:
        require_organisation_capability(
            user=_user(request), organisation=batch.organisation, capability=capability, api_key=key
        )
    return batch


def _user(request: Request) -> User:
    """Who acts on a requester endpoint: the signed-in person, or for an organisation's
    API key its accountable creator (see ``accounts.api.request_actor``)."""
    return request_actor(request)


def _worker(request: Request) -> User:
    """The signed-in person on a worker endpoint; never an organisation's key."""
    return request_user(request)


def _worker_by_pseudonym(pseudonym: str) -> User:
    worker = User.objects.filter(pseudonym=pseudonym).first()
    if worker is None:
        raise NotFound("worker")
    return worker
