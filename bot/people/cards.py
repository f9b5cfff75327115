"""Every word about a person's own things: being away, and their home."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.actions import Action
from bot.checkins.cards import fill_button, local
from bot.checkins.models import CheckIn, CheckInState
from bot.commitments.models import Commitment
from bot.messages import Button, Buttons, Card, Divider, Fact, Facts, Heading, Note, Part, paragraph
from bot.messages.text import possessive
from bot.org.models import Person, Unit
from bot.sessions.ledger import LedgerFigures

SHOW_DIGEST = Action.DIGEST_SHOW
_STATE = {"open": "open — waiting for your numbers", "submitted": "submitted", "excused": "excused"}
MAX_HOME_COMMITMENTS = 20


def away_text(start: dt.date, end: dt.date, stand_ins: Sequence[tuple[Unit, Person | None]]) -> str:
    said = []
    for unit, deputy in stand_ins:
        if deputy is not None:
            said.append(f"{deputy.name} will get {possessive(unit.name)} check-ins")
        else:
            said.append(f"{unit.name} has no deputy, so its check-ins are excused")
    more = (" " + "; ".join(said) + ".") if said else ""
    return f"Noted: you are away {start:%a %d %b} – {end:%a %d %b}.{more}"


@dataclass(slots=True)
class Home:
    """What a person's home shows."""

    person: Person
    now: dt.datetime
    # Check-ins this person answers for now (head, deputy or stand-in), with the unit name.
    open_checkins: list[tuple[str, CheckIn]] = field(default_factory=list)
    # The latest check-in of each of their units that is not open for them.
    latest: list[tuple[Unit, CheckIn]] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    # For leaders and analysts: the week of the latest digest (None: none yet) and its
    # summary as they may see it.  Both absent for everyone else.
    shows_digest: bool = False
    # For leaders: their own ledger over the last weeks (bot/sessions/ledger.py).
    ledger: LedgerFigures | None = None
    digest_week: str | None = None
    digest_summary: Sequence[Part] = ()


def _listed(items: Sequence[Commitment], today: dt.date) -> list[Part]:
    """Soonest due first, at most MAX_HOME_COMMITMENTS, the rest counted."""
    parts: list[Part] = []
    for c in items[:MAX_HOME_COMMITMENTS]:
        late = c.due_on < today
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"#{c.id} · due {c.due_on:%a %d %b}" + (" (overdue)" if late else ""),
                        value=c.text,
                        status="red" if late else "none",
                    ),
                )
            )
        )
    if len(items) > MAX_HOME_COMMITMENTS:
        parts.append(Note(text=f"…and {len(items) - MAX_HOME_COMMITMENTS} more: `commitments`."))
    return parts


def home_card(home: Home) -> Card:
    person, now = home.person, home.now
    tz = ZoneInfo(person.timezone)
    today = now.astimezone(tz).date()
    parts: list[Part] = [Heading(text=f"Hi {person.name}")]

    parts.append(Heading(text="Check-ins"))
    for name, checkin in home.open_checkins:
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"{name} · {checkin.week}",
                        value=_STATE.get(checkin.state, checkin.state),
                        status="amber" if now < checkin.deadline_at else "red",
                    ),
                    Fact(label="Due", value=local(checkin.deadline_at, person.timezone)),
                )
            )
        )
        parts.append(Buttons(buttons=(fill_button(checkin),)))
    for unit, latest in home.latest:
        state = _STATE.get(latest.state, latest.state) + (" (late)" if latest.late else "")
        parts.append(
            Facts(
                facts=(
                    Fact(
                        label=f"{unit.name} · {latest.week}",
                        value=state,
                        status="green" if latest.state != CheckInState.OPEN else "amber",
                    ),
                )
            )
        )
    if len(parts) == 2:
        parts.append(paragraph("Nothing to fill in right now. You will get a message when a check-in opens."))

    # Open commitments, soonest first; leaders' questions apart, because only an answer
    # closes one.
    questions = [c for c in home.commitments if c.origin == "followup"]
    commitments = [c for c in home.commitments if c.origin != "followup"]
    parts.append(Divider())
    parts.append(Heading(text="Your open commitments"))
    if not commitments:
        parts.append(paragraph("None. Add one with `commit <text> by <date>`."))
    parts.extend(_listed(commitments, today))
    if questions:
        parts.append(Divider())
        parts.append(Heading(text="Questions waiting for your answer"))
        parts.extend(_listed(questions, today))
        parts.append(
            Buttons(
                buttons=tuple(
                    Button(
                        label=f"Answer #{c.id}", action=Action.FOLLOWUP_ANSWER, ids={"commitment": str(c.id)}
                    )
                    for c in questions[:5]
                )
            )
        )

    if home.shows_digest:
        parts.append(Divider())
        parts.append(Heading(text="Latest digest"))
        if home.digest_week is None:
            parts.append(paragraph("No digest has been built yet."))
        else:
            # The summary card of the digest as this person may see it (restricted
            # units they cannot read are left out), with its decision buttons.
            parts.extend(home.digest_summary)
            parts.append(
                Buttons(
                    buttons=(
                        Button(
                            label="Show the whole digest", action=SHOW_DIGEST, ids={"week": home.digest_week}
                        ),
                    )
                )
            )
    if home.ledger is not None:
        f = home.ledger
        parts.append(Divider())
        parts.append(Heading(text=f"Your follow-through ({f.weeks} weeks)"))
        parts.append(
            Facts(
                facts=(
                    Fact(label="Sessions held", value=f"{f.held} of {f.scheduled}, delegated {f.delegated}"),
                    Fact(label="Memos sent on time", value=f"{f.memos_on_time} of {f.memos_due}"),
                    Fact(label="Escalations acted on", value=f"{f.acted_on} of {f.escalations}"),
                    Fact(label="Questions answered", value=f"{f.answered} of {f.asked}"),
                )
            )
        )
        parts.append(Note(text="Only you see this here; `ledger` has 4 and 12 weeks."))
    updated = f"{now.astimezone(tz):%a %d %b %H:%M %Z}"
    parts.append(Note(text=f"Updated {updated}. `help` lists every command."))
    return Card(parts=tuple(parts), summary=f"statbot home for {person.name}")
