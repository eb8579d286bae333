"""Which beike sessions are hand-labeled, and which part each belongs to — fixed before anyone read them.

600 sessions drawn uniformly at random (seed 2026) from the 6,000 of ../shared/realdata/beike; the first
300 drawn are the tuning part, the other 300 the held-out part (scored only at the end of a session).
"""
import json
import random
import sys

SEED = 2026
N_SESSIONS = 6000
N_LABELED = 600
N_TUNE = 300


def selection() -> list[tuple[int, str]]:
    drawn = random.Random(SEED).sample(range(N_SESSIONS), N_LABELED)
    return [(session, "tune" if i < N_TUNE else "heldout") for i, session in enumerate(drawn)]


if __name__ == "__main__":
    json.dump([{"session": s, "split": p} for s, p in selection()], sys.stdout)
