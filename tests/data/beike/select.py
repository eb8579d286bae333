"""Which beike sessions are hand-labeled, and which part each belongs to — fixed before anyone read them.

Draw 1 (seed 2026): 600 sessions uniformly at random from the 6,000 of ../shared/realdata/beike; the first
300 drawn tune (models/training/beike/tune.jsonl), the other 300 are held out (tests/data/beike/heldout.jsonl).
Draw 2 (seed 2027, after the first held-out part had been scored once): 600 more from the remaining 5,400;
the first 300 tune (models/training/beike/tune2.jsonl), the other 300 are held out
(tests/data/beike/heldout2.jsonl), scored only at the end of a session.
Draw 3 (seed 2028, after the second held-out part had been scored once): 600 more from the remaining 4,800,
split the same way (tune3.jsonl / heldout3.jsonl).
Draw 4 (seed 2029, after the third held-out part had been scored once): 600 more; its held-out part
(heldout4.jsonl) was labeled first, its tuning part (tune4.jsonl) on 2026-12-03.
Draw 5 (seed 2030, made 2026-12-03 after every earlier held-out part had been scored): 600 more; its
held-out part (heldout5.jsonl) is labeled blind, for the end of that session; its tuning part (tune5.jsonl)
the same day.
Draw 6 (seed 2031, made 2026-12-04 after every earlier held-out part had been scored): 600 more; its
held-out part (heldout6.jsonl) is labeled blind, by helpers who see only docs/labels.md, for the end of that
session.
"""
import json
import random
import sys

N_SESSIONS = 6000
N_LABELED = 600
N_TUNE = 300
DRAWS = {1: ("tune", "heldout", 2026), 2: ("tune2", "heldout2", 2027), 3: ("tune3", "heldout3", 2028), 4: ("tune4", "heldout4", 2029),
         5: ("tune5", "heldout5", 2030), 6: ("tune6", "heldout6", 2031)}


def selection(draw: int = 1) -> list[tuple[int, str]]:
    tune, heldout, seed = DRAWS[draw]
    taken = {session for earlier in range(1, draw) for session, _ in selection(earlier)}
    pool = [session for session in range(N_SESSIONS) if session not in taken]
    drawn = random.Random(seed).sample(pool, N_LABELED)
    return [(session, tune if i < N_TUNE else heldout) for i, session in enumerate(drawn)]


if __name__ == "__main__":
    draw = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    json.dump([{"session": s, "split": p} for s, p in selection(draw)], sys.stdout)
