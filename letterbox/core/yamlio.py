"""YAML in and out: loading keeps line numbers per field path; dumping is stable and readable."""

from __future__ import annotations

from typing import Any

import yaml

from letterbox.core.errors import LetterboxError, Problem

Path = tuple[str | int, ...]
LineMap = dict[Path, tuple[int, int]]

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that keeps timestamps and dates as strings (the schema checks their form)."""


_Loader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class _TextLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Loader for intake files: every plain scalar but null stays text (phone 13812345678)."""


_TextLoader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] == "tag:yaml.org,2002:null"]
    for key, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _line_map(node: yaml.Node | None, path: Path = (), out: LineMap | None = None) -> LineMap:
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _line_map(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)
    return out


def syntax_problem(filename: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    return Problem(
        file=filename,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        message=f"YAML 格式错误（{what}）：请检查缩进、冒号和引号是否成对。",
    )


def _duplicate_keys(node: yaml.Node | None, filename: str, path: Path = ()) -> list[Problem]:
    """A key written twice in one mapping: YAML keeps the last silently, so a hand edit is lost."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(Problem(
                    file=filename, line=key.start_mark.line + 1, column=key.start_mark.column + 1,
                    field=path_str((*path, name)),
                    message=f"字段“{name}”重复出现（第 {seen[name]} 行已有）：同一字段只能写一次，请删去多余的一处。",
                ))
            else:
                seen[name] = key.start_mark.line + 1
            problems.extend(_duplicate_keys(value, filename, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, filename, (*path, index)))
    return problems


def load(text: str, filename: str, text_only: bool = False) -> tuple[Any, LineMap]:
    """Parse YAML text; raise LetterboxError with a located Problem on a syntax error.

    text_only: plain scalars other than null load as strings (for intake submissions).
    """
    loader = (_TextLoader if text_only else _Loader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        problem = syntax_problem(filename, exc)
        raise LetterboxError(f"{filename}: 无法读取 YAML 文件。", [problem]) from None
    finally:
        loader.dispose()
    duplicates = _duplicate_keys(node, filename)
    if duplicates:
        raise LetterboxError(f"{filename}: YAML 文件中有重复的字段。", duplicates)
    return data, _line_map(node)


def locate(lines: LineMap, path: Path) -> tuple[int | None, int | None]:
    """Line and column of the deepest known ancestor of path."""
    for cut in range(len(path), -1, -1):
        hit = lines.get(tuple(path[:cut]))
        if hit:
            return hit
    return None, None


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    pass


_Dumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """Stable, human-editable YAML: key order kept, Chinese unescaped, multi-line text as blocks."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    return text


def path_str(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
