"""YAML in and out: loading keeps line numbers per field path; dumping is stable and readable.

Loading reads plain YAML only (mappings, lists, scalars), checked on the parser's event stream
before anything is built: anchors and aliases, explicit tags, merge keys, keys written twice,
nesting deeper than MAX_DEPTH and texts over MAX_BYTES are refused with located problems, so a
few hundred bytes can never expand into gigabytes (issue 15). Case files, letterbox.yaml and
intake files all come through `load`.
"""

from __future__ import annotations

import re
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


def syntax_problem(filename: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    return Problem(
        file=filename,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        message=f"YAML 格式错误（{what}）：请检查缩进、冒号和引号是否成对。",
    )


MAX_BYTES = 2 * 1024 * 1024  # a case file or letterbox.yaml: a few kilobytes; a letter's body ≤ 20 000 characters
MAX_INTAKE_BYTES = 16 * 1024 * 1024  # an intake file may hold many letters
MAX_DEPTH = 12  # mappings and lists nested: a legal case file needs 5 (the schema), letterbox.yaml 3, intake 2

_SAFE_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_EXPECTED = "案卷、配置和提交文件只用普通的键值、列表和文字"


class _Refused(Exception):
    """A construct the loader does not accept, at a mark; the message never repeats the file's text."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _shown(path: Path) -> str:
    """The field path for a message, or "" when a part is not a plain field name (it may be a datum)."""
    return path_str(path) if all(isinstance(p, int) or _SAFE_FIELD.match(p) for p in path) else ""


def _refusal(event: Any) -> str | None:
    """Why an event is not accepted: an alias, an anchor or an explicit tag (all refused)."""
    if isinstance(event, yaml.AliasEvent):
        return (f"发现 YAML 别名（*）：{_EXPECTED}，不接受用 * 引用别处的内容"
                "（几百字节的别名就能展开成巨大的数据）。请把内容直接写出。")
    if event.anchor is not None:
        return (f"发现 YAML 锚点（&）：{_EXPECTED}，不接受锚点和别名。请删去 & 及其后的名称，"
                "把内容直接写出。")
    if event.tag is not None:
        return (f"发现 YAML 类型标签（以 ! 开头，如 !!str、!!python/…）：{_EXPECTED}，不接受任何类型标签。"
                "请删去标签；需要文字时请加引号。")
    return None


def _build(loader: Any, filename: str) -> tuple[Any, LineMap, list[Problem]]:
    """The document from the loader's events, with its line map and duplicate-key problems.

    Works on the event stream, before any node graph exists: an alias, an anchor, an explicit
    tag, a merge key (<<), a key that is itself a mapping or list, or nesting deeper than
    MAX_DEPTH raises _Refused at once, so nothing is ever expanded. Scalars resolve exactly as
    the loader class resolves plain scalars (its implicit resolvers) and construct with the safe
    constructor, so data equal to what PyYAML's safe loader gives.
    """
    resolvers = type(loader).yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    constructors = _CONSTRUCTOR.yaml_constructors
    get_event = loader.get_event
    lines: LineMap = {}
    duplicates: list[Problem] = []
    # one frame per open collection: [container, path, is_mapping, key, key name, seen names]
    stack: list[list[Any]] = []
    root: Any = None
    event = get_event()  # StreamStartEvent
    event = get_event()
    if isinstance(event, yaml.StreamEndEvent):
        return None, lines, duplicates
    while True:
        event = get_event()
        kind = type(event)
        if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = stack.pop()[0]
            if not stack:
                root = done
                break
            value = done
        elif kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Refused(event.start_mark, _refusal(event) or "")
            mark = event.start_mark
            frame = stack[-1] if stack else None
            if frame is not None and frame[2] and frame[4] is None:  # a mapping's key
                if kind is not yaml.ScalarEvent:
                    raise _Refused(mark, "键应为简单的字段名（文字），而不是键值表或列表：请改写这一行。")
                name = event.value
                key = _scalar(event, resolvers, wildcard, constructors)
                if key is _MERGE_KEY:
                    raise _Refused(mark, f"发现 YAML 合并键（<<）：{_EXPECTED}，不接受合并键。"
                                         "请把要合并的字段直接写出。")
                path = (*frame[1], name)
                seen = frame[5]
                if name in seen:
                    shown = _shown(path)
                    label = f"字段“{name}”" if shown else "这个字段"
                    duplicates.append(Problem(
                        file=filename, line=mark.line + 1, column=mark.column + 1, field=shown,
                        message=f"{label}重复出现（第 {seen[name]} 行已有）：同一字段只能写一次，请删去多余的一处。",
                    ))
                else:
                    seen[name] = mark.line + 1
                lines[path] = (mark.line + 1, mark.column + 1)
                frame[3] = key
                frame[4] = path
                continue
            if frame is None:
                path = ()
            elif frame[2]:
                path = frame[4]
            else:
                path = (*frame[1], len(frame[0]))
            lines.setdefault(path, (mark.line + 1, mark.column + 1))
            if kind is yaml.ScalarEvent:
                value = _scalar(event, resolvers, wildcard, constructors)
                if value is _MERGE_KEY:
                    _CONSTRUCTOR.construct_undefined(yaml.ScalarNode(_MERGE, event.value, mark, mark))
                if frame is None:
                    root = value
                    break
            else:
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(mark, f"嵌套过深：键值表和列表最多套 {MAX_DEPTH} 层，这里已是第 "
                                         f"{len(stack) + 1} 层。合法的文件用不到这么多层，请检查缩进或括号。")
                mapping = kind is yaml.MappingStartEvent
                stack.append([{} if mapping else [], path, mapping, None, None, {} if mapping else None])
                continue
        elif kind is yaml.AliasEvent:
            raise _Refused(event.start_mark, _refusal(event) or "")
        else:  # pragma: no cover - the parser gives no other event inside a document
            raise _Refused(event.start_mark, "YAML 文件结构异常。")
        frame = stack[-1]
        if frame[2]:
            frame[0][frame[3]] = value
            frame[3] = frame[4] = None
        else:
            frame[0].append(value)
    get_event()  # DocumentEndEvent
    event = get_event()
    if not isinstance(event, yaml.StreamEndEvent):
        raise _Refused(event.start_mark, "文件中有第二个 YAML 文档（--- 之后）：一个文件只能有一个文档，"
                                         "请删去多余的部分或分成两个文件。")
    return root, lines, duplicates


_MERGE_KEY = object()  # what _scalar gives for a plain << (the loader refuses it)


_MISSING = object()
# by loader class: the value of a plain scalar's text, as _scalar makes it (str, int, float, bool,
# None or _MERGE_KEY: nothing mutable); emptied past 4096 texts
_PLAIN_SCALARS: dict[type, dict[str, Any]] = {}


class _NotPlain(Exception):
    """_build_plain met something `_build` refuses or reports: `_build` says what and where."""


def _build_plain(loader: Any) -> Any:
    """The document `_build` gives, without its line map, for a text `_build` accepts.

    The same checks as `_build`, in the same event stream, without the bookkeeping of field
    paths and lines: an alias, an anchor, an explicit tag, a merge key, a key that is a mapping
    or list, a key written twice, nesting deeper than MAX_DEPTH or a second document raises
    _NotPlain at once (the caller then runs `_build` for the located problems).
    """
    resolvers = type(loader).yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    constructors = _CONSTRUCTOR.yaml_constructors
    get_event = loader.get_event
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    # one frame per open collection: [container, is_mapping, key, key pending, seen names]
    stack: list[list[Any]] = []
    root: Any = None
    known = _PLAIN_SCALARS.setdefault(type(loader), {})  # a plain scalar's text → its value
    if len(known) > 4096:
        known.clear()
    missing = _MISSING
    get_event()  # StreamStartEvent
    if type(get_event()) is yaml.StreamEndEvent:
        return None
    while True:
        event = get_event()
        kind = type(event)
        if kind is mapping_end or kind is sequence_end:
            done = stack.pop()[0]
            if not stack:
                root = done
                break
            value = done
        elif kind is scalar_event or kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            frame = stack[-1] if stack else None
            if frame is not None and frame[1] and not frame[3]:  # a mapping's key
                if kind is not scalar_event:
                    raise _NotPlain
                name = event.value
                if name in frame[4]:
                    raise _NotPlain
                if not event.implicit[0]:
                    key = name
                else:
                    key = known.get(name, missing)
                    if key is missing:
                        key = known[name] = _scalar(event, resolvers, wildcard, constructors)
                if key is _MERGE_KEY:
                    raise _NotPlain
                frame[4].add(name)
                frame[2] = key
                frame[3] = True
                continue
            if kind is scalar_event:
                value = event.value
                if event.implicit[0]:
                    value = known.get(value, missing)
                    if value is missing:
                        value = known[event.value] = _scalar(event, resolvers, wildcard, constructors)
                    if value is _MERGE_KEY:
                        raise _NotPlain
                if frame is None:
                    root = value
                    break
            else:
                if len(stack) >= MAX_DEPTH:
                    raise _NotPlain
                if kind is mapping_start:
                    stack.append([{}, True, None, False, set()])
                else:
                    stack.append([[], False, None, False, None])
                continue
        else:  # an alias (or, never, another event inside a document)
            raise _NotPlain
        frame = stack[-1]
        if frame[1]:
            frame[0][frame[2]] = value
            frame[2] = None
            frame[3] = False
        else:
            frame[0].append(value)
    get_event()  # DocumentEndEvent
    if type(get_event()) is not yaml.StreamEndEvent:
        raise _NotPlain
    return root


def _resolve(value: str, *candidates: Any) -> str | None:
    for resolvers in candidates:
        for tag, regexp in resolvers:
            if regexp.match(value):
                return str(tag)
    return None


def _scalar(event: Any, resolvers: Any, wildcard: Any, constructors: Any) -> Any:
    """A scalar's value as the safe constructor makes it after the loader's implicit resolution."""
    value = event.value
    if not event.implicit[0]:  # quoted, literal or folded: text
        return value
    tag = _resolve(value, resolvers.get(value[0] if value else "", ()), wildcard)
    if tag is None:
        return value
    if tag == _NULL:
        return None
    if tag == _MERGE:
        return _MERGE_KEY
    node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
    construct = constructors.get(tag)
    if construct is None:
        return _CONSTRUCTOR.construct_undefined(node)
    return construct(_CONSTRUCTOR, node)


def load(text: str, filename: str, text_only: bool = False, lines: bool = True) -> tuple[Any, LineMap]:
    """Parse YAML text; raise LetterboxError with located Problems if it cannot be read.

    text_only: plain scalars other than null load as strings (for intake submissions).
    lines: keep the line map; without it ({} is returned) a text is read about a third faster,
    and one that is refused is read again with it, so its problems are the same.

    Only plain YAML is read: mappings, lists and scalars. Refused, each with its file, line,
    column and a plain Chinese message (never repeating the file's text): anchors (&) and
    aliases (*), every explicit tag (!!str and ! included, not only !!python/… and !foo),
    merge keys (<<), keys that are mappings or lists, a key written twice (at the second),
    more than one document, nesting deeper than MAX_DEPTH, and a text over MAX_BYTES
    (MAX_INTAKE_BYTES with text_only). The checks run on the parser's event stream, before
    any node is composed, so a small "billion laughs" file costs microseconds, not memory.
    """
    limit = MAX_INTAKE_BYTES if text_only else MAX_BYTES
    if len(text) * 4 > limit:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise LetterboxError(f"{filename}: 文件过大，未读取。", [Problem(
                file=filename,
                message=f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {limit // 1024 // 1024} MB）："
                        + ("提交文件请拆成几个较小的文件。" if text_only else
                           "案卷文件通常只有几 KB，请检查是否放错了文件或误把附件写进了案卷。"),
            )])
    if not lines:
        plain = (_TextLoader if text_only else _Loader)(text)
        try:
            return _build_plain(plain), {}
        except (_NotPlain, yaml.YAMLError):
            pass  # read again below, for the located problems
        finally:
            plain.dispose()
    loader = (_TextLoader if text_only else _Loader)(text)
    try:
        data, line_map, duplicates = _build(loader, filename)
    except _Refused as exc:
        problem = Problem(file=filename, line=exc.mark.line + 1, column=exc.mark.column + 1,
                          message=exc.message)
        raise LetterboxError(f"{filename}: YAML 文件中有不接受的写法，未读取。", [problem]) from None
    except yaml.YAMLError as exc:
        problem = syntax_problem(filename, exc)
        raise LetterboxError(f"{filename}: 无法读取 YAML 文件。", [problem]) from None
    finally:
        loader.dispose()
    if duplicates:
        raise LetterboxError(f"{filename}: YAML 文件中有重复的字段。", duplicates)
    return data, line_map


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
    def ignore_aliases(self, data: Any) -> bool:
        """Never write anchors and aliases (load refuses them): a shared value is written out again."""
        return True


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
