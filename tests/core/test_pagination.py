"""API pagination: DRF's page-number pages, without a COUNT query when the first page is all."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.models import User
from core.api import Pagination
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class _DjangoCounting(PageNumberPagination):
    """DRF's pagination as it comes, with our settings: what ``Pagination`` must equal."""

    page_size_query_param = Pagination.page_size_query_param
    max_page_size = Pagination.max_page_size


def _page(pagination: PageNumberPagination, query: dict[str, str]) -> tuple[Any, ...]:
    request = Request(APIRequestFactory().get("/api/people/", query))
    try:
        rows = pagination.paginate_queryset(User.objects.order_by("id"), request)
    except NotFound as exc:
        return ("404", str(exc.detail))
    data = pagination.get_paginated_response([row.pk for row in rows or []]).data
    return (data["count"], data["next"], data["previous"], data["results"])


QUERIES = [
    {},
    *({"page": page} for page in ["1", " 1", "01", "2", "3", "last", "0", "-1", "x", "", "1.0", "99"]),
    *({"page_size": size} for size in ["1", "2", "4", "5", "6", "200", "500", "0", "x"]),
    *({"page_size": size, "page": page} for size in ["2", "5"] for page in ["1", "2", "3", "last"]),
]


@pytest.mark.parametrize("people", [0, 1, 5])
def test_every_page_and_error_is_djangos_own(people: int) -> None:
    UserFactory.create_batch(people)
    for query in QUERIES:
        assert _page(Pagination(), query) == _page(_DjangoCounting(), query), query


def _counts(query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        _page(Pagination(), query)
    return sum("COUNT(" in entry["sql"].upper() for entry in queries.captured_queries)


def test_a_first_page_that_holds_every_row_is_not_counted_again() -> None:
    UserFactory.create_batch(3)
    assert _counts({}) == 0
    assert _counts({"page_size": "4"}) == 0
    assert _page(Pagination(), {"page_size": "4"})[0] == 3
    # A full first page may have more after it; a later page needs the total to exist.
    assert _counts({"page_size": "3"}) == 1
    assert _counts({"page_size": "2", "page": "2"}) == 1
    assert _counts({"page": "last"}) == 1
