"""The JSON Schemas shipped with the package, and validation that reports located problems."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from letterbox.core.errors import Problem
from letterbox.core.yamlio import LineMap, locate, path_str

LETTER_SCHEMA = "letter.schema.json"
CONFIG_SCHEMA = "config.schema.json"
SCHEMA_FILES = (LETTER_SCHEMA, CONFIG_SCHEMA)

if TYPE_CHECKING:  # imported when first needed: data that the fast validator accepts never needs it
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def schema_text(name: str) -> str:
    return resources.files("letterbox").joinpath("data", name).read_text(encoding="utf-8")


@cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_text(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def fast_validator(name: str) -> Any:
    """The same schema compiled by jsonschema-rs (formats not asserted, as `validator`'s), for
    the yes/no answer only; None when jsonschema-rs is not installed."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    return jsonschema_rs.validator_for(json.loads(schema_text(name)), validate_formats=False)


def _title(schema: Any) -> str:
    if isinstance(schema, dict) and schema.get("title"):
        return f"（{schema['title']}）"
    return ""


CONFIDENTIAL = ("writer", "title", "body", "sealed")  # a letter's own text may hold personal data too


def _expected(err: ValidationError) -> str:
    """Plain Chinese for what the schema expected at this place.

    Values of the writer block, the letter's title and body and the sealed block are never
    repeated: error output may reach CI logs.
    """
    kind, val, schema = err.validator, err.validator_value, err.schema
    path = list(err.absolute_path)
    shown = "（保密字段，不显示内容）" if path and path[0] in CONFIDENTIAL else repr(err.instance)
    described = schema.get("description", "") if isinstance(schema, dict) else ""
    if kind == "required":
        missing = [k for k in val if isinstance(err.instance, dict) and k not in err.instance]
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        names = "、".join(f"“{k}”{_title(props.get(k))}" for k in missing)
        return f"缺少必填字段 {names}。"
    if kind == "additionalProperties":
        return "此字段不在格式规定之内（可能是拼写错误），请删除或改正。"
    if kind == "type":
        words = {"string": "文字", "integer": "整数", "number": "数字", "object": "键值表",
                 "array": "列表", "boolean": "true 或 false", "null": "空值（null）"}
        types = val if isinstance(val, list) else [val]
        return f"应为{'或'.join(words.get(str(t), str(t)) for t in types)}，实际是 {shown}。"
    if kind == "enum":
        allowed = "、".join("null" if v is None else str(v) for v in val)
        return f"取值 {shown} 不允许，可选值：{allowed}。"
    if kind == "const":
        return f"应为 {val!r}，实际是 {shown}。"
    if kind == "pattern":
        return f"格式不对：{shown}。{described}"
    if kind in ("minLength", "minItems"):
        return "不能为空。"
    if kind in ("minimum", "maximum"):
        return f"数值 {shown} 超出范围（{'不小于' if kind == 'minimum' else '不大于'} {val}）。"
    return f"不符合格式要求（{err.message}）。"


def _problem_path(err: ValidationError) -> tuple[str | int, ...]:
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        if extra:
            return (*path, str(extra[0]))
    return path


def _leaf_errors(errors: list[ValidationError]) -> list[ValidationError]:
    out: list[ValidationError] = []
    for err in errors:
        if err.context:
            out.extend(_leaf_errors(list(err.context)))
        elif err.validator not in ("if", "allOf"):
            out.append(err)
    return out


def check(name: str, data: Any, filename: str, lines: LineMap) -> list[Problem]:
    """Validate data against a shipped schema; every error located at its line and field.

    The fast validator answers first; only data it refuses goes through `jsonschema`, whose
    errors the messages are made of (so they are the same as ever)."""
    fast = fast_validator(name)
    if fast is not None:
        try:
            if fast.is_valid(data):
                return []
        except Exception:  # a value jsonschema-rs cannot take: jsonschema decides
            pass
    problems = []
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for err in _leaf_errors(errors):
        path = _problem_path(err)
        line, col = locate(lines, path)
        problems.append(Problem(file=filename, line=line, column=col, field=path_str(path),
                                message=_expected(err)))
    return problems
