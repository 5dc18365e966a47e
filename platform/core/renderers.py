"""The API's JSON renderer: DRF's, with orjson writing the bytes."""

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

# What orjson leaves to us instead of writing it its own way (DRF writes times with "Z"
# and milliseconds); orjson raises TypeError on these and on any type it does not know.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(DRFJSONRenderer):
    """DRF's JSON renderer, with orjson writing the compact JSON the API answers with.

    The same bytes as DRF's (a test holds them equal), written about ten times faster: a
    feed page took 0.1 ms to encode, about a tenth of its own work. Anything orjson does
    not write exactly as DRF does is left to DRF: times, decimals, lazy text, dataclasses,
    non-string keys, integers beyond 64 bits, indented output (the browsable API). Two
    differences remain, in floats the API does not send (its only floats are rating averages
    rounded to hundredths, written alike): a float below 0.0001 with a one-digit exponent is
    written ``1e-7`` rather than ``1e-07``, and NaN becomes ``null`` where DRF refuses it.
    """

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        compact = self.compact and not self.ensure_ascii
        if data is not None and compact and self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                text = orjson.dumps(data, option=_ORJSON_OPTIONS)
            except TypeError:
                pass  # a type only DRF's encoder writes (or refuses): as DRF does, below
            else:
                # DRF escapes these two (JSON allows them raw; JavaScript source does not).
                return text.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return super().render(data, accepted_media_type, renderer_context)  # type: ignore[no-any-return]
