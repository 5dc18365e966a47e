"""Every role's pages render for the people who may see them."""

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from tests.factories import MemberFactory, UserFactory
from tests.tasks.factories import make_batch, published_batch

pytestmark = pytest.mark.django_db


def test_every_page_of_every_role_renders(client: Client, organisation, requester: User, worker: User) -> None:
    draft = make_batch(organisation)
    live = published_batch(organisation, title="Live batch")
    member = MemberFactory()
    treasurer = UserFactory()
    account_services.treasurer_grant(user=treasurer)
    slug = organisation.slug
    pages = {
        worker: ["/", "/work/", f"/work/batches/{live.pk}/", "/work/assignments/", "/work/earnings/",
                 "/work/profile/", "/work/payouts/", "/cases/",
                 f"/requesters/{slug}/", "/rules/", "/rules/minimum_hourly_wage/"],
        requester: [f"/org/{slug}/", f"/org/{slug}/profile/", f"/org/{slug}/keys/", f"/org/{slug}/funds/",
                    f"/org/{slug}/batches/new/", f"/org/{slug}/batches/{draft.pk}/", f"/org/{slug}/batches/{live.pk}/",
                    f"/org/{slug}/batches/{live.pk}/review/", f"/org/{slug}/batches/{live.pk}/results.csv",
                    f"/org/{slug}/batches/{live.pk}/results.json"],
        member: ["/coop/proposals/"],
        treasurer: ["/treasury/", "/treasury/payouts/"],
    }  # fmt: skip
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:500])
