"""Benchmark: archive search latency over a store of generated calls (target: median < 50 ms at 10,000 calls).

Builds a store of N calls (default 10,000) through the store's own path (``enqueue``, ``claim``,
``mark_done``, which indexes each call's turns with jieba), from reports of a few real analyses whose
turns are rewritten with sentences drawn at random from a sales-call phrase list (Mandarin and English),
spread over 20 reps and a year. Then times ``search`` for a mix of one-word, two-word, rep-filtered and
date-filtered queries, after one warm-up query, and prints the median, 90th percentile and max in ms,
with the index build time and the store's size. Usage:

    .venv/bin/python benchmarks/bench_search.py [--calls 10000] [--queries 200] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from pipeline.analyze import Analyzer
from pipeline.store import DiscoveredCall, Owner, Store
from pipeline.store.search import search
from pipeline.transcript import transcript_from_dict

ZH_PHRASES = [
    "王总您好，我是华工机械的小李", "这周四下午两点我去您厂里当面演示一下", "我先把资料发您微信", "您看什么时候方便",
    "我们展厅新到了一批样机", "价格方面可以再谈", "我在开会，晚点说", "好好好，对对对", "您方便来门店看一下吗",
    "这个方案我们内部再讨论一下", "下周一上午我带合同过去", "试驾的话周末也可以", "房东那边我帮您约一下",
    "这套房子采光特别好", "装修预算大概多少", "保险的保障范围我给您讲一下", "我们的系统可以免费试用一个月",
    "培训课程周六开班", "设备的售后我们是全国联保", "您那边决策需要几个人参与",
]
EN_PHRASES = [
    "Hi Sarah, this is Mike from Acme", "Could I stop by your office on Thursday at two", "I'll send you the deck",
    "We can set up a demo at our showroom", "Sorry, I'm driving right now", "Sure, sure, okay",
    "What does your budget look like", "Let's meet next Monday morning", "I can bring the contract over",
]
QUERIES = ["展厅", "微信", "合同", "演示", "试驾", "房东 约", "下午 两点", "预算", "showroom", "deck", "contract demo",
           "开会", "样机", "售后", "Thursday"]
REPS = [f"rep{n:02d}" for n in range(20)]


def build_store(path: Path, calls: int, rng: random.Random) -> float:
    analyzer = Analyzer()
    templates = [
        analyzer.analyze_transcript(transcript_from_dict(
            {"language": language, "turns": [{"speaker": s, "text": t} for s, t in turns]}), source="template")
        for language, turns in (("zh", [("rep", "您好"), ("customer", "你好")] * 10),
                                ("en", [("rep", "Hello"), ("customer", "Hi")] * 10))
    ]
    owner = Owner.current()
    started = time.perf_counter()
    with Store(path) as store:
        for n in range(calls):
            template = templates[n % 5 == 0]  # one call in five in English
            phrases = EN_PHRASES if template.language == "en" else ZH_PHRASES
            turns = [turn.model_copy(update={"text": "，".join(rng.sample(phrases, 2)), "start": 6.0 * i,
                                             "end": 6.0 * i + 5.0}) for i, turn in enumerate(template.turns)]
            report = template.model_copy(update={"turns": turns})
            sha = f"{n:016x}" * 4
            day = (date(2026, 1, 1) + timedelta(days=n % 365)).isoformat()
            rep = REPS[n % len(REPS)]
            call = DiscoveredCall(call_id=sha[:16], sha256=sha, source=f"/archive/{rep}/{n}.json", kind="transcript",
                                  rep=rep, call_date=day, duration_s=120.0, report_path=f"/out/{n}")
            store.enqueue([call], {"transcript": "t" * 16})
            store.claim(call.call_id, owner)
            store.mark_done(call.call_id, owner, report, None, "json")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the generated store")
    args = parser.parse_args()
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="bench_search_"))
    path = folder / "store.db"
    build_s = build_store(path, args.calls, rng)
    with Store(path) as store:
        search(store.db, "展厅")  # warm-up: jieba's dictionary and the page cache
        latencies_ms, hits = [], []
        for q in range(args.queries):
            query = QUERIES[q % len(QUERIES)]
            rep = REPS[q % len(REPS)] if q % 3 == 1 else None
            since = "2026-10-01" if q % 3 == 2 else None
            started = time.perf_counter()
            found = search(store.db, query, rep=rep, since=since)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            hits.append(len(found))
    latencies_ms.sort()
    print(f"store: {args.calls} calls, {path.stat().st_size / 1e6:.0f} MB, built and indexed in {build_s:.0f} s "
          f"({build_s / args.calls * 1000:.1f} ms per call)")
    print(f"search over {args.queries} queries (limit 50; a third rep-filtered, a third date-filtered): "
          f"median {statistics.median(latencies_ms):.1f} ms, p90 {latencies_ms[int(len(latencies_ms) * 0.9)]:.1f} ms, "
          f"max {latencies_ms[-1]:.1f} ms; median hits {statistics.median(hits):.0f}")
    if args.keep:
        print(f"kept: {path}")
    else:
        path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
