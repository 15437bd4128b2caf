"""Query time of the near-duplicate index: one letter against N synthetic letters.

    python bench/similar_bench.py [N] [QUERIES]      (default 100000 letters, 50 queries)

Letters are made from complaint templates about random towns/streets and sites, with random
extra sentences, so buckets and LSH candidates are realistic in size. Building the index is
timed separately: it is done once (per command run), queries then reuse it.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date, timedelta

from letterbox.core.config import default_config_text, parse_config
from letterbox.reports.similar import (
    Gazetteer,
    Profile,
    SimilarityIndex,
    canonical_text,
    sites_in,
    topics_in,
)

TEMPLATES = [
    ("小区供暖温度不达标", "入冬供暖以来，{place}{site}室内温度一直只有十{n}度，老人孩子受冻。"),
    ("路灯不亮", "{place}{site}附近一段道路的路灯已经坏了{n}个多月，晚上一片漆黑。"),
    ("垃圾清运不及时", "{place}{site}垃圾桶常常满溢，清运不及时，已经{n}天没人来了。"),
    ("夜间施工噪音扰民", "{place}{site}旁边一处工地每天夜里{n}点后仍在施工，噪音很大。"),
    ("农民工工资被拖欠", "我们在{place}{site}一处工地干活，工程结束{n}个月了工资还没结清。"),
    ("道路坑洼请求修补", "{place}通往{site}的道路坑洼不平，雨天积水严重，已有{n}人摔倒。"),
    ("小区停车位不足", "{place}{site}停车位严重不足，{n}辆车堵塞消防通道。"),
    ("自来水水压不足", "{place}{site}自来水水压不足，高处的人家每周停水{n}次。"),
    ("咨询小学入学政策", "孩子明年上小学，户口在{place}，想咨询学区划分和入学需要准备的{n}种材料。"),
    ("物业不作为", "{place}{site}物业公司不作为，电梯坏了{n}周没人修。"),
]
SITES = [f"{a}{b}" for a in "东西南北金银春秋阳光幸福和平锦绣" for b in
         ("小区", "花园", "家园", "新村", "社区", "苑")]
EXTRA = ["多次反映无果。", "请尽快处理。", "希望有关部门重视。", "居民意见很大。", "请给予答复。", ""]


def synthetic(n: int, seed: int = 7) -> list[Profile]:
    config = parse_config(default_config_text("ab" * 16))
    towns = list(Gazetteer.from_config(config).towns)
    rng = random.Random(seed)
    start = date(2026, 1, 1)
    out = []
    for i in range(n):
        title, body = rng.choice(TEMPLATES)
        town, site = rng.choice(towns), rng.choice(SITES)
        text = canonical_text(title + "。" + body.format(place=town, site=site, n=rng.randint(1, 9))
                              + rng.choice(EXTRA) + rng.choice(EXTRA))
        stripped = text.replace(town, "，")
        sites = sites_in(stripped)
        for s in sites:
            stripped = stripped.replace(s, "，")
        writer = frozenset({f"w{rng.randrange(n // 2)}"})
        out.append(Profile(f"LA-{i:06d}", start + timedelta(days=i * 365 // n), stripped,
                           frozenset({town}), sites, topics_in(text), writer))
    return out


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 100_000
    queries = int(argv[1]) if len(argv) > 1 else 50
    t0 = time.perf_counter()
    profiles = synthetic(n + queries)
    corpus, probes = profiles[:n], profiles[n:]
    t1 = time.perf_counter()
    index = SimilarityIndex.build(corpus)
    t2 = time.perf_counter()
    print(f"letters {n}: made in {t1 - t0:.1f} s, index built in {t2 - t1:.1f} s")
    times, hits = [], []
    for p in probes:
        q0 = time.perf_counter()
        found = index.query(p, earlier_only=False)
        times.append(time.perf_counter() - q0)
        hits.append(len(found))
    times.sort()
    print(f"query one letter against {n}: median {statistics.median(times) * 1000:.0f} ms, "
          f"p90 {times[int(0.9 * (len(times) - 1))] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
          f"({queries} queries; median {statistics.median(hits):g} similar letters found)")
    return 0 if times[-1] < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
