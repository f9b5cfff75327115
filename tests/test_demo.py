"""`statbot demo` runs the real bot over simulated weeks."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console

from adapters.demo import run_demo
from adapters.demo.personas import offered_commands, recorded
from adapters.demo.sessions import CANCEL_REASON
from bot.commitments.models import CommitmentStatus, session_origin
from bot.digests.models import AUDIENCE
from bot.messages import Button, Buttons, Card, Reply
from bot.sessions.models import DocumentKind, DocumentState, ItemKind, SessionState
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG
from tests.digest_consistency import contradictions


async def test_three_weeks_show_the_whole_cycle(uow: SqlUnitOfWorkFactory, tmp_path: Path) -> None:
    console = Console(record=True, width=200, color_system=None, file=io.StringIO())
    out_dir = tmp_path / "demo"
    stats = await run_demo(uow, str(EXAMPLE_ORG), 3, out_dir, console, today=dt.date(2026, 11, 28))
    out = console.export_text()
    assert "Weekly check-in for Sanitation (2026-W46) is open" in out
    assert "Maria Santos will get Sanitation's check-ins" in out  # a deputy stands in
    assert "bot → Maria Santos: Weekly check-in for Sanitation" in out
    assert "is not a number" in out or "is outside the valid range" in out or "10×" in out
    assert "(late)" in out
    assert "is overdue" in out  # a reminder after the deadline
    assert "Needs attention" in out  # an escalation step
    assert stats["answered by form"] > 10 and stats["validation caught"] >= 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["2026-W45", "2026-W46", "2026-W47", "stats.json"]
    # The last week's digest falls due after the demo stops: its folder says so.
    assert (
        "No digest for 2026-W47: it is posted on the Monday after"
        in (out_dir / "2026-W47" / "no-digest.txt").read_text()
    )
    assert not (out_dir / "2026-W46" / "no-digest.txt").exists()
    summary = (out_dir / "2026-W46" / "summary.txt").read_text()
    assert "Parks & Recreation: excused" in summary or "Parks & Recreation: submitted" in summary
    # The digests the demo posted contradict themselves nowhere (the property of
    # tests/test_digest_consistency.py, over the demo's database).
    checked = 0
    async with uow() as work:
        for week in ("2026-W45", "2026-W46", "2026-W47"):
            record = await work.digests.get(AUDIENCE, week)
            if record is None or record.posted.digest is None:
                continue
            assert contradictions(record.posted.digest) == [], week
            checked += 1
    assert checked >= 2


def test_people_react_to_what_a_reply_offers_not_to_its_words() -> None:
    fill = Button(label="Fill in this week's numbers", action="checkin.open", ids={"checkin": "4"})
    asks = Reply.text(
        "Backlog: 90 is 3× away from recent weeks.\nReply `confirm` to keep it, or send the corrected value."
    )
    assert offered_commands(asks) == {"confirm"}
    assert offered_commands(Reply.text("Please confirm the numbers with your deputy.")) == set()
    receipt = Reply(
        messages=(
            Card(
                parts=(Buttons(buttons=(fill.model_copy(update={"label": "Edit"}),)),),
                summary="Thanks! Recorded",
            ),
        )
    )
    assert recorded(receipt, fill) and not recorded(asks, fill)
    assert not recorded(receipt, fill.model_copy(update={"ids": {"checkin": "5"}}))


async def test_eight_weeks_show_every_digest_section_and_the_whole_loop(
    uow: SqlUnitOfWorkFactory, tmp_path: Path
) -> None:
    console = Console(record=True, width=200, color_system=None, file=io.StringIO())
    out_dir = tmp_path / "demo"
    await run_demo(uow, str(EXAMPLE_ORG), 8, out_dir, console, today=dt.date(2026, 11, 28))
    texts = sorted(out_dir.glob("*/digest-*.txt"))
    assert len(texts) == 7
    digests = "\n".join(t.read_text(encoding="utf-8") for t in texts)
    for heading in (
        "Leadership digest · ",
        "For your decision: top ",
        "Scorecard · ",
        "Trends needing attention · ",
        "Also needing attention · ",
        "Who reported · ",
        "Not submitted (",
        "Late (",
        "Excused (",
        "On time (",
        "Promised vs delivered · ",
        "Cadence health",
    ):
        assert heading in digests, heading
    # The loop: promises made in check-ins and in answers, kept on time, late, dropped
    # with a reason, not kept; a flagged item's history with the leaders.
    for outcome in ("✓ kept: ", "✓ kept late: ", "✗ dropped: ", "✗ not kept: ", "Asked once since"):
        assert outcome in digests, outcome
    said = " ".join(console.export_text().split())
    # Answers' promises: from the form, or one click on "Track this".
    assert "Your promise is tracked as commitment" in said or "[clicks Track this]" in said
    assert "No digest for 2026-W47" in (out_dir / "2026-W47" / "no-digest.txt").read_text()
    async with uow() as work:
        for week in (t.parent.name for t in texts):
            record = await work.digests.get(AUDIENCE, week)
            assert record is not None and record.posted.digest is not None
            assert contradictions(record.posted.digest) == [], week
    await _sessions_were_run(uow, out_dir, said)


async def _sessions_were_run(uow: SqlUnitOfWorkFactory, out_dir: Path, said: str) -> None:
    """The stat sessions of the 8 weeks: briefs and memos kept and written out, one
    cancelled with its reason, one chaired by a delegate, one memo escalated as late,
    and the promises captured tracked as commitments the head then kept or dropped."""
    briefs = sorted(out_dir.glob("*/session-*-brief.md"))
    memos = sorted(out_dir.glob("*/session-*-memo.md"))
    assert briefs and memos
    assert all(b.read_text(encoding="utf-8").startswith("# Brief for session #") for b in briefs)
    for memo in memos:
        text = memo.read_text(encoding="utf-8")
        assert text.startswith("# Follow-up memo: ") and "## Promises made by the unit" in text
    # Each document also as the PDF the chat attaches, beside its Markdown.
    pdfs = sorted(out_dir.glob("*/session-*.pdf"))
    assert {p.with_suffix(".md") for p in pdfs} == {*briefs, *memos}
    assert all(p.read_bytes().startswith(b"%PDF-") for p in pdfs)
    summaries = " ".join(p.read_text(encoding="utf-8") for p in out_dir.glob("*/summary.txt"))
    assert f": cancelled — {CANCEL_REASON}" in summaries and "(delegated); memo sent" in summaries
    assert "Memo not sent: " in said  # the late memo's escalation reached its chair
    async with uow() as work:
        sessions = list(
            await work.sessions.between(
                dt.datetime(2026, 9, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
            )
        )
        cancelled = [s for s in sessions if s.state == SessionState.CANCELLED]
        assert [s.cancel_reason for s in cancelled] == [CANCEL_REASON]
        held = [s for s in sessions if s.state == SessionState.CLOSED and s.id is not None]
        assert len([s for s in held if s.delegated]) == 1
        late = []
        for session in held:
            assert session.id is not None
            memo_doc = await work.session_documents.of(session.id, DocumentKind.MEMO)
            assert memo_doc is not None and memo_doc.state == DocumentState.SENT
            if memo_doc.escalated_at is not None:
                late.append(session.id)
            assert await work.session_documents.of(session.id, DocumentKind.BRIEF) is not None
        assert len(late) == 1
        items = await work.session_items.for_sessions([s.id for s in held if s.id is not None])
        kinds = {i.kind for i in items}
        assert kinds == set(ItemKind)
        assert all(i.answer for i in items if i.kind == ItemKind.REQUEST and i.session_id != held[-1].id)
        statuses = []
        for item in (i for i in items if i.kind == ItemKind.PROMISE):
            assert item.commitment_id is not None
            commitment = await work.commitments.get(item.commitment_id)
            assert commitment is not None and commitment.origin == session_origin(item.session_id)
            statuses.append(commitment.status)
        assert CommitmentStatus.DONE in statuses and CommitmentStatus.DROPPED in statuses
