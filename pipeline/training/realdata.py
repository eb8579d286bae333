"""Real conversations nobody on the team wrote, read from ``../shared/realdata`` (never copied into the repo).

Only evaluation reads them: labeled sets in the repo refer to them by id (e.g. a beike session number)
and their texts are looked up here. ``CALLCOACH_REALDATA`` points elsewhere; without the folder, a set that
needs it is refused in one line.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

from pipeline.errors import CallcoachError
from pipeline.paths import REPO_ROOT

REALDATA_ENV = "CALLCOACH_REALDATA"


def realdata_dir() -> Path:
    """Where the real data is: $CALLCOACH_REALDATA, else ``../shared/realdata`` beside the checkout."""
    configured = os.environ.get(REALDATA_ENV)
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "realdata"


@lru_cache(maxsize=2)
def _beike(folder: Path) -> tuple[dict[int, str], dict[int, list[str]]]:
    queries: dict[int, str] = {}
    replies: dict[int, list[tuple[int, str]]] = {}
    with open(folder / "train.query.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2:
                queries[int(row[0])] = row[1]
    with open(folder / "train.reply.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 3:
                replies.setdefault(int(row[0]), []).append((int(row[1]), row[2]))
    return queries, {session: [text for _, text in sorted(messages)] for session, messages in replies.items()}


def beike_session(session: int) -> dict:
    """One beike chat as a transcript: the customer's question, then the agent's messages in order."""
    folder = realdata_dir() / "beike"
    if not (folder / "train.query.tsv").is_file():
        raise CallcoachError(f"beike sessions need {folder} (the shared real data; set {REALDATA_ENV} to its folder)")
    queries, replies = _beike(folder)
    if session not in queries:
        raise CallcoachError(f"beike session {session} is not in {folder}")
    turns = [{"speaker": "customer", "text": queries[session]}]
    turns += [{"speaker": "rep", "text": text} for text in replies.get(session, []) if text.strip()]
    return {"language": "zh", "turns": turns}
