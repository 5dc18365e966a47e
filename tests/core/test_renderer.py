"""The API's JSON renderer: orjson writing what DRF's renderer writes, byte for byte,
and DRF itself for whatever orjson would write differently."""

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import JSONRenderer
from tasks.models import Batch


def _both(data: Any, media_type: str | None = None, context: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
    return (
        JSONRenderer().render(data, media_type, context),
        DRFJSONRenderer().render(data, media_type, context),
    )


CASES: list[Any] = [
    None,
    {},
    [],
    {"count": 2, "next": None, "previous": None, "results": [{"id": 1, "ok": True}, {"id": 2, "ok": False}]},
    "".join(chr(code) for code in range(0x250)),  # every control character and Latin letter
    "Zoë\u2019s \u201ctasks\u201d \u2014 日本語 ✓ 🐦 \u2028 line \u2029 paragraph \ud7ff \ue000 \ufffd",
    {"quote": '"', "backslash": "\\", "slash": "/", "tab": "\t", "nul": "\x00", "del": "\x7f"},
    [0, -1, 2**63 - 1, -(2**63), 0.5, -0.25, 0.0, 1.0, 3.33, 4.67, 123456.789, 0.1 + 0.2],  # rating averages
    (1, "tuple", None),
    ReturnDict({"id": 1, "nested": ReturnList([{"a": 1}], serializer=None)}, serializer=None),
    {"error": {"code": "invalid", "fields": {"title": [ErrorDetail("This field is required.", code="required")]}}},
    {"status": Batch.Status.PUBLISHED},
    # Left to DRF: written differently or not at all by orjson.
    {"at": datetime.datetime(2026, 11, 22, 23, 12, 52, 413688, tzinfo=datetime.UTC)},
    {"day": datetime.date(2026, 11, 22), "time": datetime.time(9, 30, 15, 250000)},
    {"amount": decimal.Decimal("12.50"), "id": uuid.UUID(int=7)},
    {"label": gettext_lazy("Reject")},
    {1: "one", 2: "two"},
    [2**64, -(2**64)],
]


@pytest.mark.parametrize("data", CASES)
def test_the_same_bytes_as_drf(data: Any) -> None:
    ours, drfs = _both(data)
    assert ours == drfs


def test_a_float_written_with_an_exponent_is_the_same_number() -> None:
    data = [1e-7, 1.5e-10, 1e16]
    ours, drfs = _both(data)
    assert ours == b"[1e-7,1.5e-10,1e+16]"  # a one-digit negative exponent is not padded
    assert drfs == b"[1e-07,1.5e-10,1e+16]"
    assert json.loads(ours) == json.loads(drfs) == data


def test_indented_output_for_the_browsable_api_is_drfs() -> None:
    data = {"results": [{"id": 1}]}
    indented = b'{\n    "results": [\n        {\n            "id": 1\n        }\n    ]\n}'
    assert _both(data, "application/json; indent=4") == (indented, indented)
    assert _both(data, None, {"indent": 2})[0] == _both(data, None, {"indent": 2})[1]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_of_text_numbers_and_nesting_is_written_as_drf_writes_it(data: Any) -> None:
    ours, drfs = _both(data)
    assert ours == drfs
