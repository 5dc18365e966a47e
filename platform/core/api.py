"""Shared pieces of the REST API: one error shape, pagination, strict input.

Every error leaves the API as ``{"error": {"code", "message", "fields"?}}``.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import DatabaseError, DataError, IntegrityError, ProgrammingError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.audit import change_committed
from core.errors import AppError
from core.money import parse_amount, platform_currency

logger = logging.getLogger(__name__)


class CountSparingPaginator(DjangoPaginator):
    """Django's paginator, without its ``COUNT`` query when the first page is the whole list.

    Django counts the rows before it fetches a page. When the first page has fewer rows
    than the page size, those rows are all there are: most lists here fit on one page, and
    for them the count was a second query (its SQL built and run) for a number the page
    already holds. A full first page and every later page are counted as Django does.
    """

    def page(self, number: Any) -> Page:
        first = str(number).strip() == "1" and self.allow_empty_first_page
        if not first or self.orphans or "count" in self.__dict__:
            return super().page(number)  # Django's own checks, messages and counting
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # ``count`` is a cached property
        return Page(rows, 1, self)


class Pagination(PageNumberPagination):
    django_paginator_class = CountSparingPaginator
    page_size_query_param = "page_size"
    max_page_size = 200


# The messages are read in the caller's language when the error is answered.
_DRF_CODES = {
    exceptions.ParseError: ("malformed_request", gettext_lazy("The request body is not valid JSON or form data.")),
    exceptions.NotAuthenticated: ("not_authenticated", gettext_lazy("Sign in or send an API key.")),
    exceptions.AuthenticationFailed: ("authentication_failed", gettext_lazy("The credentials were not accepted.")),
    exceptions.PermissionDenied: ("permission_denied", gettext_lazy("You are not allowed to do that.")),
    exceptions.NotFound: ("not_found", gettext_lazy("No such object.")),
    exceptions.MethodNotAllowed: ("method_not_allowed", gettext_lazy("That method is not allowed here.")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", gettext_lazy("Send JSON (application/json).")),
    exceptions.Throttled: ("rate_limited", gettext_lazy("Too many requests; wait and try again.")),
    exceptions.NotAcceptable: ("not_acceptable", gettext_lazy("The requested response format is not available.")),
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AppError):
        return Response({"error": exc.as_dict()}, status=exc.status_code)
    expected = exceptions.APIException | Http404 | DjangoPermissionDenied | RequestDataTooBig
    if change_committed() and not isinstance(exc, expected):
        # The change was saved before something after it failed: "nothing was changed"
        # would send the client into a retry that the new state refuses.
        logger.exception("error after a committed change during %s", context.get("request"))
        saved = {
            "code": "saved_with_errors",
            "message": _(
                "Your change was saved, but a step after it failed and will be retried on its own. "
                "Do not repeat the request; reload to see the current state."
            ),
        }
        return Response({"error": saved}, status=500)
    if isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError | DataError | ProgrammingError):
        # The database went away mid-request (restart, failover, a killed backend). Every
        # service writes in one transaction, so nothing was written; the client may retry.
        logger.warning("database unavailable during %s: %s", context.get("request"), exc)
        unavailable = {
            "code": "service_unavailable",
            "message": _("The database is unavailable; nothing was changed. Try again in a moment."),
        }
        return Response({"error": unavailable}, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, RequestDataTooBig):
        too_large = {"code": "body_too_large", "message": _("The request body is too large.")}
        return Response({"error": too_large}, status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any]
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()))
        body = {
            "code": "invalid",
            "message": f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0],
            "fields": fields,
        }
    else:
        known = _DRF_CODES.get(type(exc))
        code, text = (known[0], str(known[1])) if known else (str(getattr(exc, "default_code", "error")), None)
        detail = getattr(exc, "detail", None)
        if isinstance(detail, str) and detail and text is None:
            text = str(detail)
        elif isinstance(exc, exceptions.ParseError | exceptions.AuthenticationFailed) and detail:
            text = f"{text} ({detail})"
        body = {"code": str(code), "message": text or _("The request could not be handled.")}
    response.data = {"error": body}
    return response


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know, so a typo is an error rather than ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


_PAGINATED: dict[type, type] = {}


def paginated(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:  # type: ignore[type-arg]
    """The OpenAPI shape of a page of ``serializer_class`` as ``Pagination`` returns it,
    for ``extend_schema(responses=paginated(X))`` on views that paginate by hand."""
    if serializer_class not in _PAGINATED:
        name = serializer_class.__name__.removesuffix("Serializer")
        _PAGINATED[serializer_class] = type(
            f"Paginated{name}List",
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": serializer_class(many=True),
            },
        )
    return _PAGINATED[serializer_class]


def paginate(view: Any, request: Any, queryset: Any, serializer_class: type[serializers.Serializer]) -> Response:  # type: ignore[type-arg]
    """One page of ``queryset`` serialized with ``serializer_class``, in ``Pagination``'s shape."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class _BoundedAmountField(serializers.Field):  # type: ignore[type-arg]
    minor_units = False

    def __init__(self, *, maximum: int, minimum: int = 1, **kwargs: Any) -> None:
        self.maximum = maximum
        self.minimum = minimum
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        return parse_amount(
            data,
            field=self.field_name or "amount",
            currency=platform_currency(),
            maximum=self.maximum,
            minimum=self.minimum,
            minor_units=self.minor_units,
            localized=True,
        )

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]+)?$", "example": "12.50"})
class AmountField(_BoundedAmountField):
    """An amount in major units as a decimal string ("12.50"), parsed by
    ``core.money.parse_amount`` (the one parser of amounts from outside) into minor units.
    Malformed or out of range: 400 with ``invalid_amount`` / ``amount_out_of_range``
    naming the field and the limit; never a database error."""


@extend_schema_field({"type": "integer", "minimum": 1})
class MinorUnitsAmountField(_BoundedAmountField):
    """An amount in whole minor units (1250), as the marketplace's integer fields are;
    same parser and errors as ``AmountField``."""

    minor_units = True
