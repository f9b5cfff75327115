"""Two people, or two replicas, doing the same thing at the same moment.

Each race runs two StatBot turns with asyncio.gather on two engines of one database (two
"replicas"; SQLite, or PostgreSQL when STATBOT_TEST_DATABASE_URL is set).  A gate holds
each turn after it has read the thing it is about to change until the other turn has read
it too, so both act on the same state: the race happens every time, not by luck, and each
race is repeated.  Exactly one turn wins; the other is told who got there first, and
nothing of the loser's is recorded (no history, no audit entry, no delivery).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.escalations.jobs import advance
from bot.escalations.models import Escalation, EscalationState
from bot.messages import Button, Buttons, Card, Reply
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import ny, only_form, pid, text_of
from tests.test_escalations import run_until

HEAD = "robert.hayes@riverton.gov"  # Sanitation head
DEPUTY = "maria.santos@riverton.gov"  # Sanitation deputy
LEADER = "luis.ortega@riverton.gov"  # Sanitation's leader
ADMIN = "priya.raman@riverton.gov"  # admin + leader
REPEAT = 5
GOOD = {
    "m.missed_pickups": "110",
    "m.tons_collected": "1950",
    "m.recycling_diversion": "26",
    "m.missed_pickups_48h": "92",
}


class Gate:
    """Holds each of two turns right after it first reads what it is about to change
    (by default the first ``get`` from the named repository) until the other has read
    too."""

    def __init__(self, *, armed: bool = True) -> None:
        self.barrier = asyncio.Barrier(2)
        # Disarmed, turns pass freely (setting the scene before the race).
        self.armed = armed


class _GatedRepo:
    def __init__(self, inner: Any, gate: Gate, method: str) -> None:
        self._inner, self._gate, self._method, self._passed = inner, gate, method, False

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name != self._method:
            return found

        async def held(*args: Any, **kwargs: Any) -> Any:
            result = await found(*args, **kwargs)
            if self._gate.armed and not self._passed:
                self._passed = True
                await asyncio.wait_for(self._gate.barrier.wait(), 30)
            return result

        return held


class _GatedUow:
    def __init__(self, inner: SqlUnitOfWork, gate: Gate, repo: str, method: str) -> None:
        self._inner, self._gate, self._name, self._method = inner, gate, repo, method
        self._repo: _GatedRepo | None = None

    async def __aenter__(self) -> _GatedUow:
        await self._inner.__aenter__()
        self._repo = _GatedRepo(getattr(self._inner, self._name), self._gate, self._method)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        if name == self._name:
            return self._repo
        return getattr(self._inner, name)


def gated(factory: SqlUnitOfWorkFactory, gate: Gate, repo: str, method: str = "get") -> Callable[[], Any]:
    """A unit-of-work factory (one replica) whose turns wait at ``gate``."""
    return lambda: _GatedUow(factory(), gate, repo, method)


@pytest.fixture
async def replica(engine: AsyncEngine, db_url: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A second replica: its own engine and connection pool on the same database."""
    other = create_engine(db_url)
    try:
        yield SqlUnitOfWorkFactory(session_factory(other))
    finally:
        await other.dispose()


def replicas(
    org_uow: SqlUnitOfWorkFactory,
    replica: SqlUnitOfWorkFactory,
    clock: FakeClock,
    repo: str | tuple[str, str],
    methods: tuple[str, str] = ("get", "get"),
) -> tuple[StatBot, StatBot]:
    """One bot per replica, their turns held at one gate."""
    gate = Gate()
    repos = (repo, repo) if isinstance(repo, str) else repo
    return (
        StatBot(gated(org_uow, gate, repos[0], methods[0]), clock),
        StatBot(gated(replica, gate, repos[1], methods[1]), clock),
    )


async def at_once(first: Awaitable[Reply], second: Awaitable[Reply]) -> tuple[str, str]:
    """Both turns at once; their replies' text."""
    one, two = await asyncio.gather(first, second)
    return text_of(one), text_of(two)


def winner_and_loser(replies: tuple[str, str], names: tuple[str, str]) -> tuple[str, str, str]:
    """(winner's name, winner's reply, loser's reply); fails unless exactly one lost."""
    lost = [i for i, reply in enumerate(replies) if "got there first" in reply]
    assert len(lost) == 1, replies
    loser = lost[0]
    winner = 1 - loser
    assert "went wrong" not in replies[winner], replies
    assert names[winner] in replies[loser], replies
    return names[winner], replies[winner], replies[loser]


async def audit_rows(uow: SqlUnitOfWorkFactory, action: str, subject: str) -> int:
    async with uow() as work:
        return sum(
            1 for e in await work.audit.recent(limit=500) if e.action == action and e.subject == subject
        )


async def say(bot: StatBot, org_uow: SqlUnitOfWorkFactory, email: str, text: str) -> str:
    return text_of(await bot.on_text(await pid(org_uow, email), text))


# --- commitments ---------------------------------------------------------------------------


async def test_done_by_head_and_deputy_at_once_is_recorded_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    for n in range(REPEAT):
        created = await say(StatBot(org_uow, clock), org_uow, HEAD, f"commit Replace truck {n} by Friday")
        number = int(created.split("#")[1].split()[0])
        a, b = replicas(org_uow, replica, clock, "commitments")
        replies = await at_once(a.on_text(head, f"done {number}"), b.on_text(deputy, f"done {number}"))
        name, won, lost = winner_and_loser(replies, ("Robert Hayes", "Maria Santos"))
        assert won.startswith(f"#{number} marked done by {name}")
        assert "marked it done a moment ago" in lost and "not recorded" in lost
        async with org_uow() as uow:
            history = await uow.commitments.updates(number)
            stored = await uow.commitments.get(number)
        assert [u.status for u in history] == ["open", "done"], n
        assert stored is not None and stored.status == "done"
        assert await audit_rows(org_uow, "commitment.done", f"commitment:{number}") == 1


@pytest.mark.parametrize("held", ["note", "done"])
async def test_a_note_and_done_at_once_never_note_a_closed_commitment(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock, held: str
) -> None:
    """`update <id> <note>` while someone marks it done, each in turn the one that read
    first and wrote last: a note that lands first is recorded, then the done; a note that
    lands after the done is not recorded, and what was typed comes back to its writer."""
    clock.set(ny(2026, 12, 1, 10))
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    created = await say(StatBot(org_uow, clock), org_uow, HEAD, "commit Replace truck 7 by Friday")
    number = int(created.split("#")[1].split()[0])
    note = "Parts ordered for truck 7"
    hold = Hold()
    slow = StatBot(gated(replica, hold, "commitments"), clock)
    if held == "note":  # the note has read the commitment as open; the done lands first
        noting = asyncio.create_task(slow.on_text(head, f"update {number} {note}"))
        await asyncio.wait_for(hold.reached.wait(), 30)
        done = text_of(await StatBot(org_uow, clock).on_text(deputy, f"done {number}"))
        hold.released.set()
        noted = text_of(await noting)
    else:  # the done has read it as open; the note lands first
        finishing = asyncio.create_task(slow.on_text(deputy, f"done {number}"))
        await asyncio.wait_for(hold.reached.wait(), 30)
        noted = text_of(await StatBot(org_uow, clock).on_text(head, f"update {number} {note}"))
        hold.released.set()
        done = text_of(await finishing)
    async with org_uow() as uow:
        history = await uow.commitments.updates(number)
    if held == "note":
        assert done.startswith(f"#{number} marked done by Maria Santos"), done
        assert noted.startswith("Maria Santos got there first") and f"What you wrote: {note}" in noted
        assert [u.status for u in history] == ["open", "done"]
    else:
        # A note changes neither the status nor the date: the done still stands, after it.
        assert noted == f"Noted on #{number}: {note}"
        assert done.startswith(f"#{number} marked done by Maria Santos"), done
        assert [(u.status, u.note == note) for u in history] == [
            ("open", False),
            ("open", True),
            ("done", False),
        ]
    assert await audit_rows(org_uow, "commitment.done", f"commitment:{number}") == 1


async def test_done_and_a_new_date_at_once_only_one_stands(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """A check-in form moving a commitment while someone marks it done: the check-in is
    stored, and the change that lost is named on the receipt, not recorded."""
    clock.set(ny(2026, 12, 3, 9, 30))  # Thursday of 2026-W49, after the 09:00 opening
    await open_due_checkins(org_uow, clock)
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    created = await say(StatBot(org_uow, clock), org_uow, HEAD, "commit Replace truck 12 by 2026-12-10")
    number = int(created.split("#")[1].split()[0])
    form = only_form(await StatBot(org_uow, clock).on_text(head, "report"))
    values = {**GOOD, f"c.{number}": "moved", f"cdate.{number}": "2026-12-17"}
    a, b = replicas(org_uow, replica, clock, "commitments", ("open_for_unit", "get"))
    one, two = await at_once(
        a.on_form(head, form.action, form.ids, values), b.on_text(deputy, f"done {number}")
    )
    assert "Recorded" in one  # the numbers are stored either way
    async with org_uow() as uow:
        history = await uow.commitments.updates(number)
    assert len(history) == 2, history
    if history[-1].status == "done":  # the deputy won
        assert "Maria Santos got there first" in one and two.startswith(f"#{number} marked done")
    else:
        assert history[-1].due_on == dt.date(2026, 12, 17)
        assert "Robert Hayes got there first" in two and "Maria Santos" not in one


# --- follow-ups ----------------------------------------------------------------------------


async def test_head_and_deputy_answer_one_question_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head, deputy, leader = [await pid(org_uow, e) for e in (HEAD, DEPUTY, LEADER)]
    answers = ("Two trucks were in the shop.", "The route was changed on Monday.")
    for n in range(REPEAT):
        asked = await say(StatBot(org_uow, clock), org_uow, LEADER, f"ask sanitation Why the backlog {n}?")
        number = int(asked.split("follow-up #")[1].rstrip(")"))
        a, b = replicas(org_uow, replica, clock, "commitments")
        replies = await at_once(
            a.on_form(head, "followup.answer", {"commitment": str(number)}, {"answer": answers[0]}),
            b.on_form(deputy, "followup.answer", {"commitment": str(number)}, {"answer": answers[1]}),
        )
        _, won, lost = winner_and_loser(replies, ("Robert Hayes", "Maria Santos"))
        winning = answers[replies.index(won)]
        losing = answers[1 - replies.index(won)]
        assert "answered it a moment ago" in lost and "was not sent" in lost
        assert losing in lost  # what the loser typed comes back to them
        async with org_uow() as uow:
            stored = await uow.commitments.get(number)
            sent = [
                d
                for d in await uow.deliveries.for_audience(f"person:{leader}")
                if d.idempotency_key == f"followup:{number}:answered"
            ]
        # The leader gets the answer the database keeps, once.
        assert stored is not None and stored.answer == winning
        assert len(sent) == 1 and winning in Card.model_validate(sent[0].payload).plain_text()
        assert losing not in Card.model_validate(sent[0].payload).plain_text()
        assert await audit_rows(org_uow, "followup.answered", f"commitment:{number}") == 1


async def test_head_and_deputy_track_one_promise_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """Two clicks of "Track this" on one answer: one commitment; the other person is told
    who tracked it; clicking again after it is done tracks nothing more."""
    clock.set(ny(2026, 12, 1, 10))
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    for n in range(REPEAT):
        asked = await say(StatBot(org_uow, clock), org_uow, LEADER, f"ask sanitation Why the backlog {n}?")
        number = int(asked.split("follow-up #")[1].rstrip(")"))
        answer = {"answer": f"Route {n} clears by Friday."}
        await StatBot(org_uow, clock).on_form(head, "followup.answer", {"commitment": str(number)}, answer)
        ids = {"commitment": str(number)}
        a, b = replicas(org_uow, replica, clock, "commitments")
        replies = await at_once(
            a.on_button(head, "followup.track", ids), b.on_button(deputy, "followup.track", ids)
        )
        name, won, lost = winner_and_loser(replies, ("Robert Hayes", "Maria Santos"))
        assert won.startswith("Tracked as commitment #") and "tracked already as commitment" in lost
        async with org_uow() as uow:
            tracked = await uow.commitments.by_origin(f"answer:{number}")
            assert tracked is not None and tracked.id is not None
            every = [
                c for c in await uow.commitments.open_for_unit(tracked.unit_id) if c.text == tracked.text
            ]
        assert len(every) == 1
        assert await audit_rows(org_uow, "commitment.created", f"commitment:{tracked.id}") == 1
        # Done, then clicked again: still tracked once, and it says by whom.
        await say(StatBot(org_uow, clock), org_uow, HEAD, f"done {tracked.id}")
        again = text_of(await StatBot(org_uow, clock).on_button(deputy, "followup.track", ids))
        assert f"tracked already: commitment #{tracked.id}" in again and f"(tracked by {name})" in again
        async with org_uow() as uow:  # no new commitment was opened by that click
            assert [c for c in await uow.commitments.all_open() if c.text == tracked.text] == []


# --- escalations ---------------------------------------------------------------------------


async def _escalation(org_uow: SqlUnitOfWorkFactory, clock: FakeClock, n: int) -> tuple[int, int]:
    """An active chain about an overdue Sanitation commitment: (escalation, commitment)."""
    created = await say(StatBot(org_uow, clock), org_uow, HEAD, f"commit Fix the hotline {n} by Friday")
    number = int(created.split("#")[1].split()[0])
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        started = await uow.escalations.start_if_absent(
            Escalation(
                kind="overdue_commitment",
                subject_id=number,
                unit_id=unit.id,
                episode=f"race-{n}",
                policy={"name": "standard", "chain": []},
                state=EscalationState.ACTIVE,
                step=1,
                next_step_at=clock.now() + dt.timedelta(days=1),
                created_at=clock.now() - dt.timedelta(days=1),
                updated_at=clock.now() - dt.timedelta(days=1),
            )
        )
        await uow.commit()
    assert started is not None and started.id is not None
    return started.id, number


@pytest.mark.parametrize(
    "clicks", [("escalation.ack", "escalation.ack"), ("escalation.snooze", "escalation.ack")]
)
async def test_two_leaders_call_off_one_escalation_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock, clicks: tuple[str, str]
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    leader, admin = await pid(org_uow, LEADER), await pid(org_uow, ADMIN)
    for n in range(REPEAT):
        escalation_id, _ = await _escalation(org_uow, clock, n)
        ids = {"escalation": str(escalation_id), "days": "2"}
        a, b = replicas(org_uow, replica, clock, "escalations")
        replies = await at_once(a.on_button(leader, clicks[0], ids), b.on_button(admin, clicks[1], ids))
        name, _, lost = winner_and_loser(replies, ("Luis Ortega", "Priya Raman"))
        assert "Your click changed nothing" in lost
        subject = f"escalation:{escalation_id}"
        async with org_uow() as uow:
            stored = await uow.escalations.get(escalation_id)
            people = {p.id: p.name for p in await uow.people.all()}
            audited = [e for e in await uow.audit.recent(limit=500) if e.subject == subject]
        assert len(audited) == 1, audited
        assert stored is not None and stored.acted_by is not None and people[stored.acted_by] == name
        expected = "escalation.acknowledged" if stored.state == "acknowledged" else "escalation.snoozed"
        assert audited[0].action == expected


class Hold(Gate):
    """Holds one turn right after its first read until released (a gate for one)."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = self  # type: ignore[assignment]
        self.reached, self.released = asyncio.Event(), asyncio.Event()

    async def wait(self) -> None:
        self.reached.set()
        await self.released.wait()


@pytest.mark.parametrize("first", ["sweep", "leader"])
async def test_a_sweep_and_an_acknowledgement_at_once_agree(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock, first: str
) -> None:
    leader = await pid(org_uow, LEADER)
    for n in range(REPEAT):
        clock.set(ny(2026, 12, 1, 10))
        # The commitment's date moved since the chain began (another episode), so the
        # sweep finds the chain's subject resolved and closes it, while a leader clicks.
        escalation_id, _ = await _escalation(org_uow, clock, n)
        clock.set(ny(2026, 12, 2, 11))
        ack = StatBot(org_uow, clock)
        click = {"escalation": str(escalation_id)}
        if first == "sweep":
            gate = Gate()
            ack = StatBot(gated(org_uow, gate, "escalations"), clock)
            _, reply = await asyncio.gather(
                advance(gated(replica, gate, "escalations"), clock),
                ack.on_button(leader, "escalation.ack", click),
            )
        else:
            # The sweep has read the chain as running; the leader's click lands before it writes.
            hold = Hold()
            sweep = asyncio.create_task(advance(gated(replica, hold, "commitments"), clock))
            await asyncio.wait_for(hold.reached.wait(), 30)
            reply = await ack.on_button(leader, "escalation.ack", click)
            hold.released.set()
            await sweep
        async with org_uow() as uow:
            stored = await uow.escalations.get(escalation_id)
        acknowledged = await audit_rows(org_uow, "escalation.acknowledged", f"escalation:{escalation_id}")
        assert stored is not None
        # What the leader was told, what the audit says and what is stored agree.
        if first == "leader":
            assert acknowledged == 1 and stored.state == "acknowledged" and stored.acted_by == leader, stored
            assert text_of(reply).startswith("Acknowledged by Luis Ortega")
        elif acknowledged:
            assert stored.state == "acknowledged", stored
        else:
            assert stored.state == "resolved", stored
            assert text_of(reply).startswith("This settled itself a moment ago"), text_of(reply)


async def test_mark_done_from_the_escalation_and_done_by_command_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    leader, head = await pid(org_uow, LEADER), await pid(org_uow, HEAD)
    for n in range(REPEAT):
        escalation_id, number = await _escalation(org_uow, clock, n)
        a, b = replicas(org_uow, replica, clock, "commitments")
        replies = await at_once(
            a.on_button(leader, "escalation.done", {"escalation": str(escalation_id)}),
            b.on_text(head, f"done {number}"),
        )
        winner_and_loser(replies, ("Luis Ortega", "Robert Hayes"))
        async with org_uow() as uow:
            history = await uow.commitments.updates(number)
        assert [u.status for u in history] == ["open", "done"]
        assert await audit_rows(org_uow, "commitment.done", f"commitment:{number}") == 1


# --- the check-in --------------------------------------------------------------------------


def _buttons(reply: Reply) -> list[Button]:
    return [
        b
        for m in reply.messages
        if isinstance(m, Card)
        for p in m.parts
        if isinstance(p, Buttons)
        for b in p.buttons
    ]


async def test_head_and_deputy_submit_the_check_in_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    form = only_form(await StatBot(org_uow, clock).on_text(head, "report"))
    typed = {head: GOOD, deputy: {**GOOD, "m.missed_pickups": "111"}}
    gate = Gate()
    a, b = StatBot(gated(org_uow, gate, "checkins"), clock), StatBot(gated(replica, gate, "checkins"), clock)
    replies = await asyncio.gather(
        a.on_form(head, form.action, form.ids, typed[head]),
        b.on_form(deputy, form.action, form.ids, typed[deputy]),
    )
    texts = [text_of(r) for r in replies]
    lost = [i for i, t in enumerate(texts) if "was just submitted" in t]
    assert len(lost) == 1, texts
    loser, winner = (deputy, head) if lost == [1] else (head, deputy)
    names = {head: "Robert Hayes", deputy: "Maria Santos"}
    lost_text = texts[lost[0]]
    assert f"{names[winner]} submitted it" in lost_text and "kept as your draft" in lost_text
    assert "Recorded" in texts[1 - lost[0]] and "went wrong" not in " ".join(texts)
    (edit,) = _buttons(replies[lost[0]])
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
        revisions = [r for reading in readings for r in await uow.readings.revisions(reading.id or 0)]
    assert checkin is not None and checkin.submitted_by == winner
    # The winner's numbers, once each.
    stored = {r.metric_id: r.value for r in readings}
    assert sorted(stored.values()) == sorted(float(v) for v in typed[winner].values())
    assert len(revisions) == len(readings) == 4
    assert await audit_rows(org_uow, "checkin.submitted", f"checkin:{checkin.id}") == 1
    # The edit button opens the form with what the loser typed; the winner sees theirs.
    bot = StatBot(org_uow, clock)
    reopened = only_form(await bot.on_button(loser, edit.action, edit.ids))
    assert {i.name: i.value for i in reopened.inputs}["m.missed_pickups"] == typed[loser]["m.missed_pickups"]
    own = only_form(await bot.on_button(winner, edit.action, edit.ids))
    assert {i.name: i.value for i in own.inputs}["m.missed_pickups"] == typed[winner]["m.missed_pickups"]
    # Submitting the draft then is an edit of the stored check-in, by the loser.
    again = text_of(await bot.on_form(loser, form.action, form.ids, typed[loser]))
    assert again.startswith("Updated")


async def test_check_in_race_repeated(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """The same race, week after week: always one submission, never a failure."""
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    start = ny(2026, 12, 3, 9, 30)
    for n in range(REPEAT):
        clock.set(start + dt.timedelta(weeks=n))
        await open_due_checkins(org_uow, clock)
        form = only_form(await StatBot(org_uow, clock).on_text(head, "report"))
        a, b = replicas(org_uow, replica, clock, "checkins")
        one, two = await at_once(
            a.on_form(head, form.action, form.ids, GOOD), b.on_form(deputy, form.action, form.ids, GOOD)
        )
        assert sorted(["was just submitted" in one, "was just submitted" in two]) == [False, True], (one, two)
        assert "went wrong" not in one + two
        checkin_id = form.ids["checkin"]
        assert await audit_rows(org_uow, "checkin.submitted", f"checkin:{checkin_id}") == 1


async def test_head_and_deputy_typing_answers_at_once_keep_both(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    a, b = replicas(org_uow, replica, clock, "checkins", ("open_for_person", "open_for_person"))
    replies = await at_once(a.on_text(head, "missed pickups 110"), b.on_text(deputy, "tons 1950"))
    # Whoever wrote second is told what both gave, and that two numbers are still needed.
    assert any("Missed pickups reported to 311 110, Tons of refuse collected 1950." in r for r in replies)
    async with org_uow() as uow:
        (checkin,) = [c for c in await uow.checkins.for_week("2026-W49") if c.unit_id == 1]
    # Both people's numbers are in the draft, whichever turn wrote last.
    assert checkin.draft["values"] == {"m.missed_pickups": "110", "m.tons_collected": "1950"}
    # And the last answers submit the check-in with both.
    done = await say(StatBot(org_uow, clock), org_uow, HEAD, "recycling 26, within 48 hours 92")
    assert "stored" in done.lower() or "thanks" in done.lower(), done
    async with org_uow() as uow:
        readings = {r.metric_id: r.value for r in await uow.readings.for_unit_week(1, "2026-W49")}
    assert sorted(readings.values()) == [26, 92, 110, 1950]


async def test_two_corrections_of_a_submitted_check_in_at_once(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """After the check-in is in, head and deputy correct it at once: one correction is
    stored (one revision per changed reading), the other is kept as a draft."""
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    form = only_form(await StatBot(org_uow, clock).on_text(head, "report"))
    assert text_of(await StatBot(org_uow, clock).on_form(head, form.action, form.ids, GOOD)).startswith(
        "Thanks"
    )
    for n in range(REPEAT):
        mine = {**GOOD, "m.missed_pickups": str(100 + 2 * n)}
        theirs = {**GOOD, "m.missed_pickups": str(101 + 2 * n)}
        a, b = replicas(org_uow, replica, clock, "checkins")
        one, two = await at_once(
            a.on_form(head, form.action, form.ids, mine), b.on_form(deputy, form.action, form.ids, theirs)
        )
        lost = [t for t in (one, two) if "was just corrected" in t]
        assert len(lost) == 1, (one, two)
        won = mine if lost[0] == two else theirs
        assert ("Robert Hayes corrected it" if won is mine else "Maria Santos corrected it") in lost[0]
        async with org_uow() as uow:
            unit = await uow.units.by_key("sanitation")
            assert unit is not None and unit.id is not None
            readings = {
                r.note or str(r.metric_id): r for r in await uow.readings.for_unit_week(unit.id, "2026-W49")
            }
            values = sorted(r.value for r in readings.values())
            revisions = [len(await uow.readings.revisions(r.id or 0)) for r in readings.values()]
        assert float(won["m.missed_pickups"]) in values
        # One revision for the first submission, one per correction stored: none lost twice.
        assert sorted(revisions) == [1, 1, 1, 2 + n], revisions
        assert await audit_rows(org_uow, "checkin.edited", f"checkin:{form.ids['checkin']}") == n + 1


@pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="SQLite lets one transaction write at a time: the submission holds the lock",
)
async def test_a_late_check_in_and_a_leaders_acknowledgement_at_once_agree(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """The late check-in settles its missed-check-in chain while a leader acknowledges it:
    the chain stays as the leader left it, and the leader was told the truth."""
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 7, 9))  # the chain has reached the head
    head, leader = await pid(org_uow, HEAD), await pid(org_uow, LEADER)
    form = only_form(await StatBot(org_uow, clock).on_text(head, "report"))
    checkin_id = int(form.ids["checkin"])
    async with org_uow() as uow:
        (chain,) = await uow.escalations.for_subject("missed_checkin", checkin_id)
    assert chain.state == "active" and chain.id is not None
    # The submission has read the running chain; the leader's click lands before it writes.
    hold = Hold()
    late = asyncio.create_task(
        StatBot(gated(replica, hold, "escalations", "for_subject"), clock).on_form(
            head, form.action, form.ids, GOOD
        )
    )
    await asyncio.wait_for(hold.reached.wait(), 30)
    ack = await StatBot(org_uow, clock).on_button(leader, "escalation.ack", {"escalation": str(chain.id)})
    hold.released.set()
    submitted = text_of(await late)
    assert text_of(ack).startswith("Acknowledged by Luis Ortega")
    assert "Recorded" in submitted
    async with org_uow() as uow:
        stored = await uow.escalations.get(chain.id)
    assert stored is not None and stored.state == "acknowledged" and stored.acted_by == leader
    assert await audit_rows(org_uow, "escalation.acknowledged", f"escalation:{chain.id}") == 1
