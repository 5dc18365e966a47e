"""The AWS JSON 1.1 protocol of the ``mturk-requester`` 2017-01-17 service model.

The model botocore ships is the contract: it is loaded at run time with
botocore's own loader, requests are checked against an operation's input shape
with botocore's own parameter validator, and responses are shaped by the
operation's output shape (timestamps as epoch seconds, unknown members refused),
so what boto3 sends and expects is exactly what this module accepts and returns.
"""

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator

SERVICE_NAME = "mturk"
API_VERSION = "2017-01-17"
# The signing name in the credential scope (the model's endpointPrefix).
SIGNING_NAME = "mturk-requester"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

# MTurk's TurkErrorCode values used here.
CODE_INVALID_PARAMETER = "AWS.MechanicalTurk.InvalidParameterValue"
CODE_NOT_FOUND = "AWS.MechanicalTurk.ObjectDoesNotExist"
CODE_DUPLICATE_REQUEST = "AWS.MechanicalTurk.DuplicateRequest"
CODE_INSUFFICIENT_FUNDS = "AWS.MechanicalTurk.InsufficientFunds"
CODE_BELOW_MINIMUM_WAGE = "AWS.MechanicalTurk.BelowMinimumWage"
CODE_UNSUPPORTED = "AWS.MechanicalTurk.UnsupportedOperation"
CODE_INVALID_STATE = "AWS.MechanicalTurk.InvalidState"
CODE_NOT_AUTHORIZED = "AWS.NotAuthorized"
CODE_SIGNATURE = "AWS.MechanicalTurk.InvalidSignature"
CODE_EXPIRED = "AWS.MechanicalTurk.RequestExpired"
CODE_SERVICE = "AWS.ServiceUnavailable"


class MTurkError(Exception):
    """An answer in MTurk's error shape. ``RequestError`` is the caller's fault (HTTP 400),
    ``ServiceFault`` ours (HTTP 500); botocore raises ``ClientError`` for both."""

    def __init__(self, message: str, turk_code: str = CODE_INVALID_PARAMETER, *, fault: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.turk_code = turk_code
        self.fault = fault

    @property
    def error_type(self) -> str:
        return "ServiceFault" if self.fault else "RequestError"

    @property
    def status(self) -> int:
        return 500 if self.fault else 400

    def body(self) -> dict[str, str]:
        return {"__type": self.error_type, "Message": self.message, "TurkErrorCode": self.turk_code}


class MTurkThrottled(MTurkError):
    """Too many requests: botocore's retry handler backs off and retries this code itself."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "AWS.MechanicalTurk.Throttled")

    @property
    def error_type(self) -> str:
        return "ThrottlingException"


@functools.cache
def service_model() -> ServiceModel:
    data = Loader().load_service_model(SERVICE_NAME, "service-2", api_version=API_VERSION)
    return ServiceModel(data, service_name=SERVICE_NAME)


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])


def operation_names() -> list[str]:
    return list(service_model().operation_names)


def operation_for_target(target: str) -> OperationModel:
    """The operation named by an ``X-Amz-Target`` header, or ``MTurkError``."""
    prefix, _, name = target.partition(".")
    if prefix != target_prefix() or name not in service_model().operation_names:
        raise MTurkError(
            f"Unknown operation '{target}'; send X-Amz-Target: {target_prefix()}.<Operation> "
            "with an operation of the mturk-requester 2017-01-17 API.",
            "AWS.MechanicalTurk.UnknownOperation",
        )
    return service_model().operation_model(name)


def _from_wire(shape: Shape, value: Any) -> Any:
    """JSON values as botocore's validator expects them: epoch timestamps become datetimes."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {name: _from_wire(members[name], item) if name in members else item for name, item in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_from_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _from_wire(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if shape.type_name == "timestamp" and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return value
    return value


def parse_input(operation: OperationModel, body: Any) -> dict[str, Any]:
    """The request's parameters, checked against the operation's input shape."""
    if not isinstance(body, dict):
        raise MTurkError("The request body must be a JSON object of the operation's parameters.")
    shape = operation.input_shape
    if shape is None:
        return {}
    params = _from_wire(shape, body)
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise MTurkError(f"Invalid parameters for {operation.name}: {report.generate_report()}")
    return dict(params)


def _epoch(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def to_wire(shape: Shape, value: Any, where: str = "") -> Any:
    """``value`` shaped by ``shape``: members the model does not define are a bug here
    (``ValueError``), ``None`` members are left out, timestamps become epoch seconds."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise ValueError(f"{where or shape.name}: expected a structure")
        members = shape.members  # type: ignore[attr-defined]
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name not in members:
                raise ValueError(f"{where or shape.name}: '{name}' is not a member of {shape.name}")
            if item is not None:
                out[name] = to_wire(members[name], item, f"{where}.{name}" if where else name)
        return out
    if kind == "list":
        return [to_wire(shape.member, item, f"{where}[]") for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(key): to_wire(shape.value, item, where) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return _epoch(value) if isinstance(value, dt.datetime) else value
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    if kind in ("double", "float"):
        return float(value)
    return str(value)


def shape_output(operation: OperationModel, result: Mapping[str, Any]) -> dict[str, Any]:
    shape = operation.output_shape
    if shape is None:
        return {}
    return dict(to_wire(shape, result))


def shape_of(name: str) -> Shape:
    return service_model().shape_for(name)
