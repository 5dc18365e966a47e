"""Marketplace test helpers: batches made through the services, funded from a rail."""

from typing import Any

from accounts.models import Organisation, User
from ledger import accounts
from ledger.escrow import balance
from tasks import services
from tasks.models import Batch
from tests.ledger.factories import fund

TEMPLATE = """
<p>Is this image of a ${animal}? <img src="${image_url}"></p>
<form>
  <input type="radio" name="answer" value="yes" required> yes
  <input type="radio" name="answer" value="no"> no
  <textarea name="comment"></textarea>
  <input type="submit" value="Send">
</form>
"""

ROWS_CSV = "animal,image_url\ncat,https://img.example/1.jpg\ndog,https://img.example/2.jpg\n"


def batch_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Label animals",
        "description": "Say whether the picture shows the animal named.",
        "purpose": "Training data for a wildlife camera classifier.",
        "data_use": "Used to train a model published under an open licence; no personal data.",
        "reward": 50,  # 0.50 for 2 minutes = 15.00/h, above the founding 12.00/h floor
        "assignments_per_task": 2,
        "estimated_minutes": 2,
        "time_allotted_minutes": 10,
        "lifetime_hours": 48,
        "template_html": TEMPLATE,
    }
    fields.update(overrides)
    return fields


def make_batch(organisation: Organisation, *, rows: str | None = ROWS_CSV, **overrides: Any) -> Batch:
    owner = organisation.staff.get(role="owner").user
    batch = services.batch_create(organisation=organisation, actor=owner, **batch_fields(**overrides))
    if rows is not None:
        services.batch_set_input(batch=batch, actor=owner, content=rows, file_format="csv")
    return batch


def slot_cost(batch: Batch) -> int:
    """Reward + fee per slot under the founding 10% fee."""
    return batch.reward + batch.reward // 10


def published_batch(organisation: Organisation, *, funds: int | None = None, **overrides: Any) -> Batch:
    """A published batch; the organisation is funded with exactly enough unless ``funds`` says otherwise."""
    batch = make_batch(organisation, **overrides)
    slots = max(1, batch.tasks.count()) * batch.assignments_per_task
    fund(organisation, funds if funds is not None else slots * slot_cost(batch))
    owner = organisation.staff.get(role="owner").user
    return services.batch_publish(batch=batch, actor=owner)


def available(organisation: Organisation) -> int:
    return balance(accounts.org_available(organisation)).available


def earnings(user: User) -> int:
    return balance(accounts.worker_earnings(user)).posted
