"""Customer memory: who the customer of a call is (file-name pattern, upload, or the call's own words), each
customer's calls in order, agreed meetings resolved to dates, and the flags a coach acts on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import PurePosixPath

import pytest

from pipeline.analysis.customer import spoken_customer
from pipeline.batch.discover import compile_customer_pattern, customer_of
from pipeline.errors import CallcoachError
from pipeline.language.timeplace import resolve_day
from pipeline.report.workbench import flag_text
from pipeline.store import DiscoveredCall, Owner, Store
from pipeline.store.customers import NEVER_ASKED_AFTER_CALLS, customer_histories, customer_history
from pipeline.transcript import Transcript, Turn, transcript_from_dict


def _transcript(language: str, *turns: tuple[str, str]) -> Transcript:
    return Transcript(language, [Turn(i, speaker, text) for i, (speaker, text) in enumerate(turns)])  # type: ignore[arg-type]


# -- who the customer is, from the call's words


def test_the_name_the_rep_addresses_the_customer_by():
    found = spoken_customer(_transcript("zh", ("rep", "王总您好，我是华工机械的小李。王总，现在说话方便吗？"),
                                        ("customer", "方便，你说吧。")))
    assert found is not None and found.name == "王总" and found.company is None
    assert found.turn == 0 and found.quote == "王总"


def test_the_rep_s_own_name_and_company_are_not_the_customer():
    assert spoken_customer(_transcript("zh", ("rep", "您好，我是华工机械的王经理，您怎么称呼？"), ("customer", "我姓李。"))) is None


def test_a_title_inside_another_word_is_not_a_name():
    # 提高总体 holds 高总; 加工厂 holds no surname + 工 at a word start.
    assert spoken_customer(_transcript("zh", ("rep", "这台设备能提高总体效率，加工厂都在用。"))) is None


def test_the_company_the_customer_names_as_theirs_joins_the_name():
    found = spoken_customer(_transcript("zh", ("rep", "您好，请问是张经理吗？"),
                                        ("customer", "对，我们华宫机械有限公司最近在看折弯机。")))
    assert found is not None and (found.name, found.company) == ("张经理", "华宫机械")
    assert found.key == "张经理 · 华宫机械"


def test_the_name_said_most_wins():
    found = spoken_customer(_transcript("zh", ("rep", "李总，您好。"), ("customer", "你好。"),
                                        ("rep", "王总那边也说了，张总您看呢？张总？")))
    assert found is not None and found.name == "张总"


def test_english_names_by_title_or_greeting():
    found = spoken_customer(_transcript("en", ("rep", "Hi Sarah, this is Mike from Acme."),
                                        ("customer", "I'm with Northwind Traders, go ahead.")))
    assert found is not None and (found.name, found.company) == ("Sarah", "Northwind Traders")
    assert spoken_customer(_transcript("en", ("rep", "Good morning, is this Mr. Chen?"))).name == "Mr. Chen"
    assert spoken_customer(_transcript("en", ("rep", "Hi there, this is Mike."))) is None


# -- who the customer is, from the file name


def test_customer_pattern_reads_the_named_group():
    pattern = compile_customer_pattern(r"(?P<customer>1[3-9]\d{9})_")
    assert customer_of(PurePosixPath("li/13812345678_20261201_1030.m4a"), pattern) == "13812345678"
    assert customer_of(PurePosixPath("li/meeting.m4a"), pattern) is None
    assert customer_of(PurePosixPath("li/13812345678_x.m4a"), None) is None


def test_customer_pattern_without_the_group_or_broken_is_refused():
    with pytest.raises(CallcoachError, match="named group 'customer'"):
        compile_customer_pattern(r"\d+")
    with pytest.raises(CallcoachError, match="not a valid regular expression"):
        compile_customer_pattern(r"(?P<customer>")


# -- agreed days as dates


@pytest.mark.parametrize(("day", "expected"), [
    ("today", "2026-12-03"), ("tomorrow", "2026-12-04"), ("day after tomorrow", "2026-12-05"),
    ("Thursday", "2026-12-03"), ("Monday", "2026-12-07"), ("next Thursday", "2026-12-10"),
    ("next Monday", "2026-12-07"), ("weekend", "2026-12-05"), ("December 24", "2026-12-24"),
    ("January 5", "2027-01-05"), ("sometime", None),
])
def test_resolve_day_from_the_day_it_was_said(day, expected):
    resolved = resolve_day(day, date(2026, 12, 3))  # a Thursday
    assert (resolved.isoformat() if resolved else None) == expected


# -- histories and flags over a store

OWNER = Owner.current()
AGREED = [("rep", "王总您好，周四下午两点我去您厂里当面给您演示一下，您看行吗？"), ("customer", "行，周四见。")]
NO_PUSH = [("rep", "王总您好，新款价格出来了，我把资料发您微信。"), ("customer", "好的，发我吧。")]
MET_BEFORE = [("rep", "王总您好，上次见面的时候您说要看新款，价格出来了。"), ("customer", "嗯，说说。")]


@pytest.fixture(scope="module")
def analyzer():
    from pipeline.analyze import Analyzer

    return Analyzer()


def _add(store: Store, analyzer, n: int, turns, rep: str, day: str, customer: str | None = None) -> str:
    sha = f"{n:016x}" * 4
    call = DiscoveredCall(call_id=sha[:16], sha256=sha, source=f"/archive/{rep}/call{n}.json", kind="transcript",
                          rep=rep, call_date=day, duration_s=None, report_path=f"/out/{rep}/call{n}", customer=customer)
    store.enqueue([call], {"transcript": "t" * 16})
    transcript = transcript_from_dict({"language": "zh", "turns": [{"speaker": s, "text": t} for s, t in turns]})
    report = analyzer.analyze_transcript(transcript, source=f"call{n}.json")
    assert store.claim(call.call_id, OWNER)
    assert store.mark_done(call.call_id, OWNER, report, None, "json")
    return call.call_id


def test_customers_grouped_by_pattern_and_by_spoken_name(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        # One phone number across two reps' calls: one customer.
        _add(store, analyzer, 1, NO_PUSH, "li", "2026-11-02", customer="13812345678")
        _add(store, analyzer, 2, AGREED, "zhang", "2026-11-09", customer="13812345678")
        # The same spoken 王总 for two reps: two customers (a name is known only within one rep's calls).
        _add(store, analyzer, 3, NO_PUSH, "li", "2026-11-03")
        _add(store, analyzer, 4, NO_PUSH, "li", "2026-11-10")
        _add(store, analyzer, 5, NO_PUSH, "wu", "2026-11-04")
        histories = {(h.customer, h.rep): h for h in customer_histories(store, today=date(2026, 11, 20))}
    assert set(histories) == {("13812345678", None), ("王总", "li"), ("王总", "wu")}
    phone = histories[("13812345678", None)]
    assert phone.source == "pattern" and phone.reps == ["li", "zhang"]
    assert [c.call_date for c in phone.calls] == ["2026-11-02", "2026-11-09"]
    assert [c.pushed for c in phone.calls] == [False, True]
    assert histories[("王总", "li")].source == "spoken" and len(histories[("王总", "li")].calls) == 2


def test_an_agreed_meeting_with_no_later_call_is_flagged(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        agreed_id = _add(store, analyzer, 1, AGREED, "li", "2026-12-01", customer="13800000001")  # a Tuesday
        history = customer_history(store, "13800000001", today=date(2026, 12, 5))
    assert history is not None and history.needs_push
    call = history.calls[0]
    assert call.outcome == "accepted" and call.agreed_date == "2026-12-03" and call.agreed_clock == "14:00"
    assert call.meeting_happened is None
    [flag] = history.flags
    assert (flag.code, flag.call_id, flag.due, flag.overdue) == ("agreed_no_call_since", agreed_id, "2026-12-03", True)
    assert "周四" in flag_text("zh", flag) and "no call since" in flag_text("en", flag)


def test_a_later_call_that_speaks_of_the_meeting_confirms_it(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        _add(store, analyzer, 1, AGREED, "li", "2026-12-01", customer="c1")
        _add(store, analyzer, 2, MET_BEFORE, "li", "2026-12-08", customer="c1")
        _add(store, analyzer, 3, AGREED, "li", "2026-12-01", customer="c2")
        _add(store, analyzer, 4, NO_PUSH, "li", "2026-12-08", customer="c2")
        met, unconfirmed = (customer_history(store, c, today=date(2026, 12, 9)) for c in ("c1", "c2"))
    assert met.calls[0].meeting_happened is True and met.met and not met.flags
    assert unconfirmed.calls[0].meeting_happened is False and not unconfirmed.met
    assert [f.code for f in unconfirmed.flags] == ["agreed_not_confirmed"]


def test_many_calls_without_a_push_are_flagged(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        for n in range(NEVER_ASKED_AFTER_CALLS):
            _add(store, analyzer, n, NO_PUSH, "li", f"2026-11-0{n + 1}", customer="c")
        history = customer_history(store, "c")
    [flag] = history.flags
    assert flag.code == "never_asked" and flag.calls == NEVER_ASKED_AFTER_CALLS
    assert flag_text("en", flag) == f"{NEVER_ASKED_AFTER_CALLS} calls, never asked to meet"


def test_an_upload_s_customer_wins_over_the_spoken_one_and_a_pattern_over_both(tmp_path, analyzer):
    with Store(tmp_path / "s.db") as store:
        spoken = _add(store, analyzer, 1, NO_PUSH, "li", "2026-11-02")
        assert store.call(spoken).customer == "王总" and store.call(spoken).customer_source == "spoken"
        store.name_customer(spoken, "王建国 · 华宫机械")
        assert (store.call(spoken).customer, store.call(spoken).customer_source) == ("王建国 · 华宫机械", "upload")
        by_pattern = _add(store, analyzer, 2, NO_PUSH, "li", "2026-11-02", customer="13812345678")
        store.name_customer(by_pattern, "someone else")
        assert store.call(by_pattern).customer == "13812345678"


def test_customers_command_table_and_json(tmp_path, analyzer):
    db = tmp_path / "s.db"
    with Store(db) as store:
        _add(store, analyzer, 1, AGREED, "li", "2026-12-01", customer="13800000001")
        for n in range(2, 2 + NEVER_ASKED_AFTER_CALLS):
            _add(store, analyzer, n, NO_PUSH, "wu", f"2026-11-0{n}", customer="13900000002")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "customers", "--db", str(db), *args],
                              capture_output=True, text=True, timeout=120)

    listed = run("--format", "json")
    assert listed.returncode == 0, listed.stderr
    records = {r["customer"]: r for r in json.loads(listed.stdout)}
    assert set(records) == {"13800000001", "13900000002"}
    assert records["13900000002"]["flags"][0]["code"] == "never_asked"
    assert records["13800000001"]["calls"][0]["agreed_date"] == "2026-12-03"
    only_wu = json.loads(run("--format", "json", "--rep", "wu").stdout)
    assert [r["customer"] for r in only_wu] == ["13900000002"]
    table = run("--customer", "13800000001", "--lang", "zh")
    assert table.returncode == 0 and "周四" in table.stdout and "之后没有再通话" in table.stdout
    missing = run("--customer", "nobody")
    assert missing.returncode != 0 and "nobody" in missing.stderr and "Traceback" not in missing.stderr
    bad = subprocess.run([sys.executable, "-m", "pipeline.cli", "customers", "--db", str(tmp_path / "none.db")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "no store" in bad.stderr and "Traceback" not in bad.stderr
    assert re.search(r"13900000002", run().stdout)
