"""YAML that cannot hurt (issue 15, point 4): aliases, anchors, explicit tags, merge keys,
duplicate keys, deep nesting and huge files are refused, located and in Chinese, before any
node graph is built; ordinary files load exactly as PyYAML's safe loader reads them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from letterbox.core import yamlio
from letterbox.core.errors import LetterboxError, Problem
from tests.conftest import WRITER, Repo, snapshot, stray_files, submission

ROOT = Path(__file__).resolve().parents[2]
HEADER = "schema_version: 1\nletter_code: LA-2026-00001\n"


def bomb(levels: int = 8) -> str:
    """The "billion laughs": each list holds nine aliases of the one before (9**8 leaves)."""
    lines = ['a0: &a0 ["哈哈"]']
    for k in range(1, levels + 1):
        lines.append(f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB = HEADER + bomb()
BOMB_LINE = 3  # the first anchor: a0 on the line after the header


def refused(text: str, text_only: bool = False) -> list[Problem]:
    with pytest.raises(LetterboxError) as info:
        yamlio.load(text, "cases/2026/03/LA-2026-00001.yaml", text_only=text_only)
    problems = info.value.problems
    # read without the line map (validate's fast path), it is refused all the same, at the same place
    with pytest.raises(LetterboxError) as plain:
        yamlio.load(text, "cases/2026/03/LA-2026-00001.yaml", text_only=text_only, lines=False)
    assert plain.value.problems == problems and plain.value.message == info.value.message
    assert problems, info.value
    for problem in problems:
        assert problem.file == "cases/2026/03/LA-2026-00001.yaml"
        assert problem.line is not None and problem.column is not None
        assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.message)
    return problems


def test_the_bomb_is_a_few_hundred_bytes() -> None:
    assert 300 <= len(BOMB.encode("utf-8")) <= 450


CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from letterbox.core import yamlio
    from letterbox.core.errors import LetterboxError
    def status(key):  # this process's own figures (ru_maxrss may carry the parent's over exec)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
    text = sys.stdin.read()
    room = status("VmSize") * 1024 + (100 << 20)  # 100 MB more address space than now, no more
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    start = time.perf_counter()
    try:
        yamlio.load(text, "bomb.yaml", text_only=sys.argv[1] == "text", lines=sys.argv[2] == "lines")
        out = {"refused": False}
    except LetterboxError as exc:
        out = {"refused": True, "line": exc.problems[0].line, "message": exc.problems[0].message}
    out["seconds"] = time.perf_counter() - start
    out["maxrss_kb"] = status("VmHWM")
    print(json.dumps(out))
""")


def load_in_child(text: str, text_only: bool = False, lines: bool = True) -> dict[str, Any]:
    """Load `text` in a fresh interpreter (100 MB of room, 20 s); its time and peak memory."""
    try:
        result = subprocess.run([sys.executable, "-c", CHILD, "text" if text_only else "case",
                                 "lines" if lines else "plain"],
                                input=text, capture_output=True, text=True, timeout=20, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("loading the file did not finish in 20 s: it is being expanded")
    assert result.returncode == 0, result.stderr[-2000:]  # MemoryError: it is being expanded
    out: dict[str, Any] = json.loads(result.stdout)
    return out


@pytest.mark.parametrize("lines", [True, False], ids=["with lines", "without lines"])
@pytest.mark.parametrize("text_only", [False, True], ids=["case file", "intake file"])
def test_alias_bomb_is_refused_in_bounded_time_and_memory(text_only: bool, lines: bool) -> None:
    out = load_in_child(BOMB, text_only, lines)
    assert out["refused"] and out["line"] == BOMB_LINE
    assert "锚点" in out["message"]
    assert out["seconds"] < 1.0
    assert out["maxrss_kb"] < 100 * 1024, out  # the whole interpreter, yaml and letterbox included


def test_alias_bomb_without_anchors_in_the_first_lines_is_refused_at_the_alias() -> None:
    # an alias whose anchor is missing is refused as an alias, before the parser could complain
    problems = refused(HEADER + "title: *x\n")
    assert problems[0].line == 3 and "别名" in problems[0].message


@pytest.mark.parametrize("lines", [True, False], ids=["with lines", "without lines"])
def test_a_very_deep_flow_list_is_refused_in_bounded_time_and_memory(lines: bool) -> None:
    out = load_in_child(HEADER + "title: " + "[" * 100_000 + "]" * 100_000 + "\n", lines=lines)
    assert out["refused"] and out["line"] == 3 and "嵌套过深" in out["message"]
    assert out["seconds"] < 1.0 and out["maxrss_kb"] < 100 * 1024


# -- each construct, located and explained ------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "column", "words"), [
    (HEADER + "title: &t 路灯不亮\n", 3, 8, "锚点"),
    (HEADER + "writer: &w\n  name: 张三\n", 3, 9, "锚点"),
    (HEADER + "history:\n  - &e {action: receive}\n", 4, 5, "锚点"),
    (HEADER + "title: !!python/object/apply:os.system [\"echo hi\"]\n", 3, 8, "类型标签"),
    (HEADER + "title: !!python/name:os.system\n", 3, 8, "类型标签"),
    (HEADER + "title: !foo 路灯\n", 3, 8, "类型标签"),
    (HEADER + "title: !!str 123\n", 3, 8, "类型标签"),
    (HEADER + "title: ! 123\n", 3, 8, "类型标签"),
    (HEADER + "writer: !!map {name: 张三}\n", 3, 9, "类型标签"),
    (HEADER + "history: !!seq []\n", 3, 10, "类型标签"),
    ("%TAG ! tag:example.com,2000:\n---\n" + HEADER + "title: !x 路灯\n", 5, 8, "类型标签"),
    (HEADER + "writer:\n  <<: {name: 张三}\n", 4, 3, "合并键"),
    (HEADER + "? [a, b]\n: 1\n", 3, 3, "键应为简单的字段名"),
    (HEADER + "---\nletter_code: LA-2026-00002\n", 3, 1, "第二个 YAML 文档"),
], ids=["anchor on a scalar", "anchor on a mapping", "anchor in a list", "python object",
        "python name", "custom tag", "str tag", "non-specific tag", "map tag", "seq tag",
        "tag directive", "merge key", "complex key", "second document"])
def test_construct_is_refused_with_a_located_chinese_message(text: str, line: int, column: int,
                                                             words: str) -> None:
    for text_only in (False, True) if words != "合并键" else (False,):
        problems = refused(text, text_only)
        assert [(p.line, p.column) for p in problems] == [(line, column)], problems
        assert words in problems[0].message
        assert "张三" not in str(problems[0]) and "路灯" not in str(problems[0])


def test_merge_key_in_quotes_or_in_an_intake_file_is_an_ordinary_key() -> None:
    assert yamlio.load('"<<": 1\n', "x.yaml")[0] == {"<<": 1}
    assert yamlio.load("<<: {a: 1}\n", "x.yaml", text_only=True)[0] == {"<<": {"a": "1"}}


def test_duplicate_keys_are_refused_at_the_second_each() -> None:
    text = (HEADER + "title: 路灯\nwriter:\n  name: 张三\n  phone: '13812345678'\n"
            "  name: 李四\ntitle: 供暖\n")
    problems = refused(text)
    assert [(p.line, p.column, p.field) for p in problems] == [(7, 3, "writer.name"), (8, 1, "title")]
    assert "第 5 行已有" in problems[0].message and "第 3 行已有" in problems[1].message
    for problem in problems:
        for value in ("张三", "李四", "路灯", "供暖", "13812345678"):
            assert value not in str(problem)


def test_a_duplicate_key_that_may_be_a_datum_is_not_repeated() -> None:
    problems = refused("13812345678: a\n13812345678: b\n", text_only=True)
    assert [(p.line, p.column, p.field) for p in problems] == [(2, 1, "")]
    assert "13812345678" not in str(problems[0])


def nested(levels: int) -> str:
    """`levels` mappings and lists, alternating, in block style."""
    lines, indent = [], ""
    for k in range(levels - 1):
        if k % 2 == 0:
            lines.append(f"{indent}k{k}:")
            indent += "  "
        else:
            lines.append(f"{indent}-")
            indent += "  "
    lines.append(f"{indent}leaf: 1" if (levels - 1) % 2 == 0 else f"{indent}- 1")
    return "\n".join(lines) + "\n"


def test_nesting_up_to_the_bound_loads_and_one_more_is_refused() -> None:
    deepest = yamlio.MAX_DEPTH
    data, _ = yamlio.load(nested(deepest), "x.yaml")
    depth, node = 0, data
    while isinstance(node, (dict, list)):
        depth, node = depth + 1, (next(iter(node.values())) if isinstance(node, dict) else node[0])
    assert depth == deepest
    problems = refused(nested(deepest + 1))
    assert [(p.line, p.column) for p in problems] == [(deepest + 1, 2 * deepest + 1)]
    assert "嵌套过深" in problems[0].message and str(deepest) in problems[0].message


def schema_depth(schema: dict[str, Any], defs: dict[str, Any]) -> int:
    """How deep a legal document nests mappings and lists."""
    if "$ref" in schema:
        return schema_depth(defs[schema["$ref"].split("/")[-1]], defs)
    best = max([schema_depth(s, defs) for k in ("oneOf", "anyOf", "allOf") for s in schema.get(k, [])]
               + [schema_depth(schema[k], defs) for k in ("then", "else") if k in schema] + [0])
    if "properties" in schema or schema.get("type") == "object":
        subs = [*schema.get("properties", {}).values(), *schema.get("patternProperties", {}).values()]
        if isinstance(schema.get("additionalProperties"), dict):
            subs.append(schema["additionalProperties"])
        best = max(best, 1 + max([schema_depth(s, defs) for s in subs] + [0]))
    if "items" in schema or schema.get("type") == "array":
        best = max(best, 1 + schema_depth(schema.get("items", {}), defs))
    return best


@pytest.mark.parametrize("name", ["letter.schema.json", "config.schema.json"])
def test_the_bound_leaves_room_over_what_the_schemas_need(name: str) -> None:
    schema = json.loads((ROOT / "letterbox" / "data" / name).read_text("utf-8"))
    needed = schema_depth(schema, schema.get("$defs", {}))
    assert 2 <= needed and needed + 4 <= yamlio.MAX_DEPTH


def test_a_huge_case_file_is_refused_before_parsing() -> None:
    text = HEADER + "body: |\n" + ("  " + "很长的正文" * 40 + "\n") * 20_000  # about 12 MB
    start = time.perf_counter()
    with pytest.raises(LetterboxError) as info:
        yamlio.load(text, "big.yaml")
    assert time.perf_counter() - start < 0.5
    (problem,) = info.value.problems
    assert problem.file == "big.yaml" and "文件过大" in problem.message and "上限 2 MB" in problem.message
    # a long but reasonable letter still loads
    data, _ = yamlio.load(HEADER + "body: |\n  " + "正文" * 30_000 + "\n", "ok.yaml")
    assert len(data["body"]) == 60_001


# -- ordinary files load as before ------------------------------------------------------------

class _Reference(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, timestamps as text: the reference for ordinary files."""


_Reference.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def reference_lines(node: yaml.Node | None, path: tuple = (), out: dict | None = None) -> dict:
    """The line map as the loader kept it before: key marks for fields, node marks for items."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
            reference_lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            reference_lines(item, (*path, index), out)
    return out


ORDINARY = [p for p in sorted((ROOT / "cases").rglob("*.y*ml"))] + [
    ROOT / "letterbox" / "data" / "letterbox.default.yaml", ROOT / "letterbox.yaml"]


def test_there_are_ordinary_files_to_compare() -> None:
    assert len([p for p in ORDINARY if p.is_file()]) >= 20


@pytest.mark.parametrize("path", [p for p in ORDINARY if p.is_file()],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_ordinary_file_loads_as_the_safe_loader_reads_it(path: Path) -> None:
    text = path.read_text("utf-8")
    data, lines = yamlio.load(text, str(path))
    assert data == yaml.load(text, Loader=_Reference)
    assert lines == reference_lines(yaml.compose(text, Loader=_Reference))
    assert json.dumps(data, ensure_ascii=False, default=str)  # plain data, nothing shared
    assert yamlio.load(text, str(path), lines=False) == (data, {})  # validate's fast path reads the same


ODD_BUT_PLAIN = """\
a: 0x1F
b: 0o17
c: 1_000
d: 1:20
e: .inf
f: -.NaN
g: yes
h: "yes"
i: ~
j:
k: 2026-03-02
l: [1, 2.5, 'x', null, {m: n}]
'q': |
  多行
  文字
r: >
  折叠
  文字
s: -1e3
t: 1e3
u: '007'
v: 007
true: 1
1: one
"""


def test_plain_scalars_resolve_exactly_as_before() -> None:
    data, lines = yamlio.load(ODD_BUT_PLAIN, "x.yaml")
    assert data == yaml.load(ODD_BUT_PLAIN, Loader=_Reference)
    assert repr(data) == repr(yaml.load(ODD_BUT_PLAIN, Loader=_Reference))  # nan, types and all
    assert lines == reference_lines(yaml.compose(ODD_BUT_PLAIN, Loader=_Reference))
    for _ in range(2):  # without the line map: the same values (the second time from the known plain scalars)
        plain, none = yamlio.load(ODD_BUT_PLAIN, "x.yaml", lines=False)
        assert repr(plain) == repr(data) and none == {}
    text_data, _ = yamlio.load(ODD_BUT_PLAIN, "x.yaml", text_only=True)
    assert yamlio.load(ODD_BUT_PLAIN, "x.yaml", text_only=True, lines=False)[0] == text_data
    assert text_data["a"] == "0x1F" and text_data["i"] is None and text_data["j"] is None
    assert text_data["g"] == "yes" and text_data["v"] == "007"


def test_empty_and_scalar_documents() -> None:
    assert yamlio.load("", "x.yaml") == (None, {})
    assert yamlio.load("# only a comment\n", "x.yaml") == (None, {})
    assert yamlio.load("--- 12\n", "x.yaml") == (12, {(): (1, 5)})
    assert yamlio.load("", "x.yaml", lines=False) == (None, {})
    assert yamlio.load("# only a comment\n", "x.yaml", lines=False) == (None, {})
    assert yamlio.load("--- 12\n", "x.yaml", lines=False) == (12, {})


# -- through the real commands ------------------------------------------------------------------

def plant_bomb(repo: Repo) -> str:
    code = repo.new_letter(1)
    path = repo.letter_file(code)
    path.write_text(path.read_text("utf-8") + bomb(), "utf-8")
    return path.relative_to(repo.path).as_posix()


def test_validate_refuses_the_bomb_naming_file_and_line(case_repo: Repo) -> None:
    rel = plant_bomb(case_repo)
    line = (case_repo.path / rel).read_text("utf-8").splitlines().index('a0: &a0 ["哈哈"]') + 1
    start = time.perf_counter()
    result = case_repo.run("validate", expect=1)
    assert time.perf_counter() - start < 10
    assert f"{rel}:{line}:" in result.stderr and "锚点" in result.stderr
    assert not any(value in result.stdout + result.stderr for value in WRITER.values())


def test_check_refuses_the_bomb_naming_file_and_line(case_repo: Repo) -> None:
    base = case_repo.git("rev-parse", "HEAD").strip()
    rel = plant_bomb(case_repo)
    start = time.perf_counter()
    report = json.loads(case_repo.run("check", "--base", base, "--json", expect=1).stdout)
    assert time.perf_counter() - start < 10
    hits = [p for p in report["problems"] if p["file"] == rel and "锚点" in p["message"]]
    assert hits and hits[0]["line"] is not None


@pytest.mark.parametrize("name", ["bomb.yaml", "bomb.yml", "bomb.txt"])
def test_intake_refuses_a_bomb_and_leaves_the_repository_as_it_was(case_repo: Repo, name: str) -> None:
    case_repo.new_letter(1)
    before = snapshot(case_repo.path)
    sub = submission(2)
    text = yaml.safe_dump(sub, allow_unicode=True, sort_keys=False) + bomb()
    path = case_repo.write_submission(name, text)
    line = text.splitlines().index('a0: &a0 ["哈哈"]') + 1
    start = time.perf_counter()
    result = case_repo.run("intake", str(path), expect=1)
    assert time.perf_counter() - start < 10
    assert f"{path}:{line}:" in result.stderr and "锚点" in result.stderr
    assert snapshot(case_repo.path) == before
    assert before.status == "" and stray_files(case_repo.path) == []
    assert not any(v in result.stdout + result.stderr for v in sub.values() if isinstance(v, str) and v)


def test_intake_refuses_a_tagged_submission(case_repo: Repo) -> None:
    before = snapshot(case_repo.path)
    text = yaml.safe_dump(submission(1), allow_unicode=True, sort_keys=False)
    text = text.replace("title:", "title: !!python/object/apply:os.system ['touch /tmp/pwned'] #", 1)
    path = case_repo.write_submission("tagged.yaml", text)
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith("title:"))
    result = case_repo.run("intake", str(path), expect=1)
    assert f"{path}:{line}:" in result.stderr and "类型标签" in result.stderr
    assert snapshot(case_repo.path) == before


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl"])
def test_intake_refuses_json_nested_thousands_deep(case_repo: Repo, name: str) -> None:
    before = snapshot(case_repo.path)
    path = case_repo.write_submission(name, "[" * 100_000 + "]" * 100_000 + "\n")
    result = case_repo.run("intake", str(path), expect=1)
    assert f"{path}:1:" in result.stderr and "嵌套过深" in result.stderr
    assert snapshot(case_repo.path) == before


def test_dump_never_writes_what_load_refuses() -> None:
    shared = {"action": "receive", "by": ["office"]}
    text = yamlio.dump({"history": [shared, shared], "same": shared["by"]})
    assert "&" not in text and "*" not in text
    data, _ = yamlio.load(text, "x.yaml")
    assert data == {"history": [shared, shared], "same": ["office"]}
