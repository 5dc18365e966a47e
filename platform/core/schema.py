"""The OpenAPI schema says what every operation can answer, errors included.

``core.api.exception_handler`` can answer any API view with the one error shape
(``{"error": {"code", "message", "fields"?, "details"?}}``) and the statuses below,
so every operation declares them; a client generated from the schema (and the fuzzer
in tests/proof) then knows a 404 or a 409 is part of the contract, not a surprise.
"""

from typing import Any

ERROR_COMPONENT = "Error"

# Status -> when the platform answers it, from any operation.
ERROR_STATUSES = {
    "400": "The input was not valid; `fields` names each wrong field.",
    "401": "Not signed in, or the token or API key was not accepted.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or one the caller may not see.",
    "405": "That method is not allowed here.",
    "409": "The object's state does not allow this now (e.g. `invalid_state`, `insufficient_funds`).",
    "413": "The request body is too large.",
    "415": "The body's content type is not accepted.",
    "429": "Too many requests; wait and try again.",
    "503": "A service the platform depends on is unavailable; nothing was changed, try again.",
}

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "details": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds the error responses to every operation
    that does not declare its own for that status."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = _ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERROR_STATUSES.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
