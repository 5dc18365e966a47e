"""The demo data of ``make run`` is made through the real services and can be loaded twice."""

import pytest
from django.core.management import call_command

from accounts.models import Membership, Organisation, User
from accounts.selectors import user_is_treasurer
from ledger.accounts import org_available, org_escrow
from ledger.selectors import balance
from tasks.models import Assignment, Batch


@pytest.mark.django_db
def test_seed_demo_loads_a_funded_requester_with_a_published_batch(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    organisation = Organisation.objects.get(slug="demo-lab")
    assert organisation.is_verified
    batch = Batch.objects.get(organisation=organisation)
    assert batch.status == Batch.Status.PUBLISHED
    slots = Assignment.objects.filter(batch=batch).count()
    assert slots == 10
    reserved = slots * (batch.reward + batch.fee_per_assignment)
    assert balance(org_available(organisation)).available == 50_000 - reserved
    assert balance(org_escrow(organisation)).pending == reserved
    assert user_is_treasurer(User.objects.get(username="treasurer"))
    assert Membership.objects.filter(juror_opt_in=True).count() >= 3
    for login in ("requester", "amina", "bruno", "chen", "member", "juror", "treasurer"):
        assert f"  {login} " in first
        assert User.objects.get(username=login).check_password("demo-password-2026")
    assert first == second
