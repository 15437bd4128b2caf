"""Schema errors never repeat a letter's own text or ciphertext (error output may reach CI logs)."""

from __future__ import annotations

from letterbox.core import schemas


def test_title_body_and_sealed_values_are_not_repeated() -> None:
    data = {"title": ["赵卫东的电话13937212345"], "body": {"手机": "13937212345"},
            "sealed": {"suite": "13937212345"}, "writer": {"phone": 13937212345}}
    problems = schemas.check(schemas.LETTER_SCHEMA, data, "cases/x.yaml", {})
    fields = {p.field for p in problems}
    assert {"title", "body", "sealed.suite", "writer.phone"} <= fields
    for problem in problems:
        assert "13937212345" not in problem.message and "赵卫东" not in problem.message
