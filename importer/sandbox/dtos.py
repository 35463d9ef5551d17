"""Request bodies checked against Visma's request DTOs, as the real API checks them.

The fields come from ``dtos.json`` beside this module, the sandbox's own
description of the DTOs it accepts, written from the official OpenAPI spec by
``scripts/describe_dtos.py`` (see there for the format) and checked against
the spec by ``tests/test_sandbox_dtos.py``.

``check_body(dto, body)`` lists every way a body departs from its DTO, each
message naming the field as an API user writes it
(``invoiceLines[1].quantity.value: expected a number, got "abc"``):

* a field the DTO does not declare is an error, at any depth;
* ``null`` is accepted for any field and any wrapped value (Visma ignores it);
* a wrapped field must be an object whose only key is ``value``;
* numbers are JSON numbers or numeric strings (``"1.60"``, as Visma's own
  examples send them); int32 values must be whole and within range;
* date-times are ISO strings (``yyyy-mm-dd``, optionally with a time and zone);
* booleans are JSON booleans, uuids UUID strings, base64 valid base64;
* a list field is an array of objects.

The description is compiled once into one checking function per field, so a
typical four-line invoice is checked in a few tens of microseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["DTO_NAMES", "SCHEMAS", "check_body"]

# A field's check: (value, its path, errors to append to). Never sees None.
Check = Callable[[Any, str, list[str]], None]
# A scalar's check: None when the value is fine, else what is wrong with it.
Rule = Callable[[Any], str | None]

_DESCRIPTION: dict[str, Any] = json.loads(
    (Path(__file__).parent / "dtos.json").read_text(encoding="utf-8")
)
SCHEMAS: Mapping[str, Mapping[str, Any]] = _DESCRIPTION["schemas"]
DTO_NAMES: tuple[str, ...] = tuple(_DESCRIPTION["requests"])

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_INT32 = (-(2**31), 2**31 - 1)


def _show(value: Any) -> str:
    """A value as JSON, shortened for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {_show(value)}"


def _number(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) or math.isfinite(value):
            return None
    elif isinstance(value, str) and _NUMBER.fullmatch(value):
        return None
    return f"expected a number, got {_show(value)}"


def _int32(value: Any) -> str | None:
    if isinstance(value, bool):
        number: int | None = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if math.isfinite(value) and value.is_integer() else None
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        number = None
    if number is None:
        return f"expected a whole number, got {_show(value)}"
    if not _INT32[0] <= number <= _INT32[1]:
        return f"{_show(value)} is out of range for a 32-bit integer"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {_show(value)}"


def _datetime(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a date as a string, got {_show(value)}"
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return f"expected a date as yyyy-mm-dd[Thh:mm[:ss][zone]], got {_show(value)}"
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return f"{_show(value)} is not a valid date"
    return None


def _uuid(value: Any) -> str | None:
    if isinstance(value, str) and _UUID.fullmatch(value):
        return None
    return f"expected a UUID, got {_show(value)}"


def _base64(value: Any) -> str | None:
    if isinstance(value, str) and _BASE64.fullmatch(value):
        return None
    return f"expected base64 text, got {_show(value)}"


_RULES: dict[str, Rule] = {
    "string": _string,
    "number": _number,
    "int32": _int32,
    "boolean": _boolean,
    "datetime": _datetime,
    "uuid": _uuid,
    "base64": _base64,
}


def _enum(values: list[str]) -> Rule:
    allowed = frozenset(values)
    listed = ", ".join(values)

    def rule(value: Any) -> str | None:
        if isinstance(value, str) and value in allowed:
            return None
        return f"{_show(value)} is not one of {listed}"

    return rule


def _scalar_check(rule: Rule) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        problem = rule(value)
        if problem is not None:
            errors.append(f"{path}: {problem}")

    return check


class _Compiler:
    """Builds the checks of every schema, each schema once (shared by reference)."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self.schemas = schemas
        self.objects: dict[str, dict[str, Check]] = {}

    def fields(self, name: str) -> dict[str, Check]:
        if name not in self.objects:
            table: dict[str, Check] = {}
            self.objects[name] = table  # filled in place: schemas may refer to themselves
            for field, descriptor in self.schemas[name].items():
                table[field] = self.field(descriptor)
        return self.objects[name]

    def field(self, descriptor: Any) -> Check:
        if isinstance(descriptor, dict) and "value" in descriptor:
            return _wrapped(self.plain(descriptor["value"]))
        if isinstance(descriptor, dict) and "array" in descriptor:
            return _array(self.fields(descriptor["array"]))
        return self.plain(descriptor)

    def plain(self, descriptor: Any) -> Check:
        if isinstance(descriptor, str):
            return _scalar_check(_RULES[descriptor])
        if "enum" in descriptor:
            return _scalar_check(_enum(descriptor["enum"]))
        if "object" in descriptor:
            return _object(self.fields(descriptor["object"]))
        raise ValueError(f"dtos.json: unknown descriptor {descriptor!r}")


def _walk(fields: dict[str, Check], body: dict[str, Any], prefix: str, errors: list[str]) -> None:
    for key, value in body.items():
        check = fields.get(key)
        if check is None:
            errors.append(f"{prefix}{key}: unknown field")
        elif value is not None:
            check(value, prefix + key, errors)


def _object(fields: dict[str, Check]) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        if isinstance(value, dict):
            _walk(fields, value, path + ".", errors)
        else:
            errors.append(f"{path}: expected an object, got {_show(value)}")

    return check


def _array(fields: dict[str, Check]) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list):
            errors.append(f"{path}: expected an array of objects, got {_show(value)}")
            return
        for i, item in enumerate(value):
            if isinstance(item, dict):
                _walk(fields, item, f"{path}[{i}].", errors)
            else:
                errors.append(f"{path}[{i}]: expected an object, got {_show(item)}")

    return check


def _wrapped(inner: Check) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            errors.append(f'{path}: expected {{"value": ...}}, got {_show(value)}')
            return
        for key, wrapped in value.items():
            if key != "value":
                errors.append(f"{path}.{key}: unknown field")
            elif wrapped is not None:
                inner(wrapped, path + ".value", errors)

    return check


_COMPILER = _Compiler(SCHEMAS)
_ROOTS: dict[str, dict[str, Check]] = {name: _COMPILER.fields(name) for name in DTO_NAMES}


def check_body(dto: str, body: object) -> list[str]:
    """Every way ``body`` departs from request DTO ``dto``; empty when it conforms.

    ``dto`` is one of ``DTO_NAMES`` (or any schema of the description, such as
    a line DTO); an unknown name raises ``KeyError``."""
    fields = _ROOTS.get(dto)
    if fields is None:
        if dto not in SCHEMAS:
            raise KeyError(f"{dto} is not a request DTO the sandbox knows")
        fields = _COMPILER.fields(dto)
    if not isinstance(body, dict):
        return [f"(body): expected a JSON object, got {_show(body)}"]
    errors: list[str] = []
    _walk(fields, body, "", errors)
    return errors
