"""Speed of the near-duplicate index: a query against N letters, and adding one new letter.

    python bench/similar_bench.py [N] [QUERIES]      (default 100000 letters, 50 queries)
    python bench/similar_bench.py --bursts [N]       (N letters in one month: `matter_bursts`)

Letters are made from complaint templates (each told a few ways, with synonyms the word lists
know and some they do not) about random towns/streets and sites, with random extra sentences,
so text candidates and buckets are realistic in size (many letters share most words: a harder
case than real mail). Each letter's profile (jieba words, TF-IDF vector) is made as
`make_profile` makes it. Timed apart:

- making the N profiles and building the index (done once per command run); the sentence
  embeddings of the first EMBEDDED (5 000) letters are made by the model, the others reuse one of
  those (making 100 000 takes ~8 minutes here; the query cost does not depend on the values),
  and the cost of making them all is extrapolated from a batch of QUERIES texts;
- a query: one new letter against the N (`SimilarityIndex.query`, earlier and later letters);
- an update: making one new letter's profile and `SimilarityIndex.add`, then a query that sees it.

Exits non-zero when a query takes 300 ms or more at the median, or an update 50 ms or more
at the median (the targets of issue 20). Say the load (`cat /proc/loadavg`) with the figures.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from typing import Any

from letterbox.core.config import default_config_text, parse_config
from letterbox.reports.similar import (
    Gazetteer,
    Profile,
    SimilarityIndex,
    canonical_text,
    embed_texts,
    sites_in,
    spots_in,
    topics_in,
    words,
)

TEMPLATES = [
    ("小区供暖温度不达标", "入冬供暖以来，{place}{site}室内温度一直只有十{n}度，老人孩子受冻。"),
    ("家里冷得穿羽绒服", "{site}的暖气片摸着是凉的，屋里{n}度，打热力公司电话没人管。"),
    ("路灯不亮", "{place}{site}附近一段道路的路灯已经坏了{n}个多月，晚上一片漆黑。"),
    ("晚上出门摸黑", "{site}门口那条路灯杆立着灯不亮，{n}个老人摔过跤。"),
    ("垃圾清运不及时", "{place}{site}垃圾桶常常满溢，清运不及时，已经{n}天没人来了。"),
    ("夜间施工噪音扰民", "{place}{site}旁边一处工地每天夜里{n}点后仍在施工，噪音很大。"),
    ("农民工工资被拖欠", "我们在{place}{site}一处工地干活，工程结束{n}个月了工资还没结清。"),
    ("包工头不给辛苦钱", "{site}那个工地的包工头跑了，我们{n}个人的工钱一分没拿到。"),
    ("道路坑洼请求修补", "{place}通往{site}的道路坑洼不平，雨天积水严重，已有{n}人摔倒。"),
    ("小区停车位不足", "{place}{site}停车位严重不足，{n}辆车堵塞消防通道。"),
    ("自来水水压不足", "{place}{site}自来水水压不足，高处的人家每周停水{n}次。"),
    ("咨询小学入学政策", "孩子明年上小学，户口在{place}，想咨询学区划分和入学需要准备的{n}种材料。"),
    ("物业不作为", "{place}{site}物业公司不作为，电梯坏了{n}周没人修。"),
    ("楼里电梯三天两头坏", "{site}{n}号楼的升降梯三天两头停运，老人上下楼困难。"),
]
SITES = [f"{a}{b}" for a in "东西南北金银春秋阳光幸福和平锦绣" for b in
         ("小区", "花园", "家园", "新村", "社区", "苑")]
EMBEDDED = 5000  # letters whose embedding is made; the others reuse one of these (see main)
EXTRA = ["多次反映无果。", "请尽快处理。", "希望有关部门重视。", "居民意见很大。", "请给予答复。", ""]


class Maker:
    """Synthetic letters' profiles, made the way `make_profile` makes a real letter's."""

    def __init__(self, seed: int = 7) -> None:
        self.embedded: dict[str, Any] = {}  # text -> embedding
        self.made = 0  # embeddings made by the model
        self.towns = list(Gazetteer.from_config(parse_config(default_config_text("ab" * 16))).towns)
        self.rng = random.Random(seed)

    def profile(self, i: int, n: int, fresh: bool = False) -> Profile:
        rng = self.rng
        title, body = rng.choice(TEMPLATES)
        town, site = rng.choice(self.towns), rng.choice(SITES)
        text = canonical_text(title + "。" + body.format(place=town, site=site, n=rng.randint(1, 9))
                              + rng.choice(EXTRA) + rng.choice(EXTRA))
        stripped = text.replace(town, "，")
        sites = sites_in(stripped)
        for s in sites:
            stripped = stripped.replace(s, "，")
        writer = frozenset({f"w{rng.randrange(max(n // 2, 1))}"})
        if fresh or stripped not in self.embedded:
            if fresh or len(self.embedded) < EMBEDDED:
                self.embedded[stripped] = embed_texts([stripped])[0]  # the model's forward pass
                self.made += 1
            else:  # beyond EMBEDDED letters: another letter's embedding, to fill the index
                self.embedded[stripped] = self.embedded[rng.choice(list(self.embedded)[:EMBEDDED])]
        p = Profile(f"LA-{i:06d}", date(2026, 1, 1) + timedelta(days=i * 365 // max(n, 1)), stripped,
                    frozenset({town} if town in text else set()), sites, topics_in(text), writer,
                    spots=spots_in(text), given_embedding=self.embedded[stripped])
        _ = p.vector  # made now (jieba), as a profile's vector is before it joins an index
        return p


def ms(values: list[float]) -> str:
    values = sorted(values)
    return (f"median {statistics.median(values) * 1000:.1f} ms, p90 "
            f"{values[int(0.9 * (len(values) - 1))] * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms")


def bursts(n: int) -> int:
    """The early warning's `matter` alerts over N letters received in one month (30 days)."""
    from letterbox.reports.analysis import Facts, matter_bursts

    maker = Maker()
    profiles = [maker.profile(i, n) for i in range(n)]
    facts = [Facts(p.code, date(2026, 11, 1) + timedelta(days=i * 30 // n), None, (),
                   next(iter(sorted(p.towns)), None), p) for i, p in enumerate(profiles)]
    print(f"load before: {' '.join(open('/proc/loadavg').read().split()[:3])}, {os.cpu_count()} cores")
    t0 = time.perf_counter()
    alerts = matter_bursts(facts, 5, 7)
    took = time.perf_counter() - t0
    print(f"matter_bursts over {n} letters of one month: {took:.1f} s ({took / n * 1000:.1f} ms a letter), "
          f"{len(alerts)} alerts")
    print(f"load after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--bursts"]:
        return bursts(int(argv[1]) if len(argv) > 1 else 2000)
    n = int(argv[0]) if argv else 100_000
    queries = int(argv[1]) if len(argv) > 1 else 50
    print(f"load before: {' '.join(open('/proc/loadavg').read().split()[:3])}, {os.cpu_count()} cores")
    t_load = time.perf_counter()
    c_load = time.process_time()
    embed_texts(["。"])
    print(f"embedding model loaded in {time.perf_counter() - t_load:.2f} s "
          f"({time.process_time() - c_load:.2f} CPU s)")
    maker = Maker()
    t0 = time.perf_counter()
    corpus = [maker.profile(i, n) for i in range(n)]
    t1 = time.perf_counter()
    index = SimilarityIndex.build(corpus)
    t2 = time.perf_counter()
    print(f"letters {n}: profiles made in {t1 - t0:.1f} s ({(t1 - t0) / n * 1000:.2f} ms each; "
          f"{maker.made} embeddings made by the model, the others reused), index built in {t2 - t1:.1f} s")
    import resource

    print(f"peak memory so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"embeddings in the index: {sum(r.nbytes + s.nbytes for r, s in index.dense) / 1e6:.1f} MB")
    probes = [maker.profile(n + i, n) for i in range(queries)]
    times, hits = [], []
    for p in probes:
        q0 = time.perf_counter()
        found = index.query(p, earlier_only=False)
        times.append(time.perf_counter() - q0)
        hits.append(len(found))
    print(f"query one letter against {n}: {ms(times)} ({queries} queries; median "
          f"{statistics.median(hits):g} similar letters listed)")
    updates = []
    for i in range(queries):
        words.cache_clear()  # a new letter's words are not cached
        u0 = time.perf_counter()
        p = maker.profile(n + queries + i, n, fresh=True)
        index.add(p)
        updates.append(time.perf_counter() - u0)
    print(f"update (make one new letter's profile, add it): {ms(updates)} ({queries} letters added)")
    c0 = time.process_time()
    t0 = time.perf_counter()
    made = embed_texts([p.text for p in probes])
    print(f"embedding {len(made)} texts in one batch: {(time.perf_counter() - t0) / len(made) * 1000:.1f} ms "
          f"each ({(time.process_time() - c0) / len(made) * 1000:.1f} CPU ms): making 100 000 "
          f"letters' embeddings once costs about {(time.process_time() - c0) / len(made) * 100_000:.0f} CPU s")
    print(f"load after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    return 0 if statistics.median(times) < 0.3 and statistics.median(updates) < 0.05 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
