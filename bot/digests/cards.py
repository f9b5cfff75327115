"""The digest as neutral cards: a summary with the top items first, then the scorecard,
every item ranked, who reported, promised vs delivered, cadence health and the charts.

Each item names the person who owes the answer (a mention) and carries the buttons a
leader decides with: "Ask about this" (a follow-up to the unit head) and, for an item
that is escalating, "Acknowledge".  The platform renderers split long cards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.checkins.status import format_value, target_text
from bot.digests.cadence import CADENCE_WEEKS
from bot.digests.detectors.metrics import OFF_TARGET_WEEKS
from bot.digests.models import (
    CommitmentFacts,
    Digest,
    EscalationFacts,
    ExceptionItem,
    FollowupFacts,
    History,
    MetricFacts,
    MetricLine,
    MetricRef,
    PersonRef,
    PromiseItem,
    ReportingEntry,
    TargetChangeFacts,
    UnitScore,
    WrittenFacts,
)
from bot.messages import Card
from bot.messages.model import (
    Button,
    Buttons,
    Divider,
    Fact,
    Facts,
    Heading,
    Image,
    Mention,
    Note,
    Paragraph,
    Part,
    Span,
    Sparkline,
    Status,
    Text,
)
from bot.messages.text import counted as _plural
from bot.org.models import Metric

TOP_ITEMS = 5
# A chat message cannot hold a thousand units; the rest is one command away.
MAX_SCORECARD_UNITS = 25
MAX_LISTED = 30
_SEVERITY_WORD = {"high": "High", "medium": "Medium", "low": "Low"}
_STATUS_WORD: dict[Status, str] = {
    "red": "off target",
    "amber": "watch",
    "green": "on target",
    "none": "no data",
}
_KIND_WORD = {
    "off_target_streak": f"Off target {OFF_TARGET_WEEKS}+ weeks",
    "big_move": "Big move the wrong way",
    "confirmed_outlier": "Confirmed despite the data check",
    "overdue_commitment": "Commitment overdue",
    "quiet_commitment": "Commitment gone quiet",
    "due_this_week": "Commitment due this week",
    "unanswered_followup": "Follow-up unanswered",
    "open_escalation": "Escalation open",
}
# What an escalation not otherwise listed is about.
_ESCALATION_WORD = {
    "overdue_commitment": "overdue commitment",
    "quiet_commitment": "quiet commitment",
    "unanswered_followup": "unanswered followup",
}
_OUTCOME_WORD = {
    "kept": "✓ kept",
    "kept_late": "✓ kept late",
    "dropped": "✗ dropped",
    "not_kept": "✗ not kept",
}


def _mention(person: PersonRef | None) -> list[Span]:
    return [] if person is None else [Text(text=" · "), Mention(email=person.email, name=person.name)]


def _day(day: dt.date) -> str:
    return f"{day:%a %d %b}"


def _moment(instant: dt.datetime, zone: str) -> str:
    """An instant in the organisation's zone, with the zone's abbreviation."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %H:%M} {local.tzname() or zone}"


def _metric(ref: MetricRef) -> Metric:
    # The formatting helpers read only the measure, the direction and the target.
    return Metric(
        unit_id=0, key="", name=ref.name, measure=ref.measure, direction=ref.direction, target=ref.target
    )


def _target_changes_text(changes: Sequence[TargetChangeFacts]) -> str:
    """The window's target changes, so nobody reads an old week against the new target."""
    parts = []
    for change in changes:
        metric = Metric(
            unit_id=0, key="", name="", measure=change.measure, direction="higher", target=change.after
        )
        before, after = format_value(metric, change.before), format_value(metric, change.after)
        parts.append(f"target changed from {before} to {after} on {_day(change.on)}")
    return "; ".join(parts)


def _metric_text(kind: str, facts: MetricFacts) -> str:
    metric = _metric(facts.metric)
    value = format_value(metric, facts.value)
    target = f"target {target_text(metric)}"
    name = facts.metric.name
    changed = f"; {_target_changes_text(facts.target_changes)}" if facts.target_changes else ""
    if kind == "big_move":
        return f"{name}: {format_value(metric, facts.before)} → {value} ({target}){changed}"
    if kind == "confirmed_outlier":
        why = f" — “{facts.note}”" if facts.note else ""
        return f"{name}: {value} confirmed despite the data check{why}{changed}"
    weeks = f"{facts.streak}+ weeks" if facts.whole_window else f"{facts.streak} weeks"
    worse = f", worse than last week ({format_value(metric, facts.before)})" if facts.worse else ""
    return f"{name}: {value} ({target}), off target {weeks} running{worse}{changed}"


def _commitment_text(kind: str, facts: CommitmentFacts) -> str:
    what = f"#{facts.commitment_id} “{facts.title}”"
    if kind == "overdue_commitment":
        return f"{what} was due {_day(facts.due_on)} ({_plural(facts.days, 'day')} overdue)"
    if kind == "quiet_commitment":
        return f"{what}: no update for {facts.days} days (due {_day(facts.due_on)})"
    return f"{what} is due {_day(facts.due_on)}"


def _followup_text(facts: FollowupFacts) -> str:
    who = facts.asked_by.name if facts.asked_by else "A leader"
    due = f"was due {_day(facts.due_on)}" if facts.late else f"due {_day(facts.due_on)}"
    return f"{who} asked: “{facts.question}” — no answer yet, {due}"


def _escalation_text(unit_name: str, facts: EscalationFacts) -> str:
    if facts.about == "missed_checkin":
        what = f"{unit_name} has not submitted {facts.week or 'a check-in'}"
    else:
        about = _ESCALATION_WORD.get(facts.about, facts.about.replace("_", " "))
        what = f"commitment #{facts.subject_id}: {about}"
    if facts.snoozed_until is not None:
        where = f"snoozed until {_day(facts.snoozed_until)}"
    else:
        where = f"escalating since {_day(facts.since)}, {_plural(facts.messages_sent, 'message')} sent"
    return f"{what} — {where}"


def item_text(item: ExceptionItem) -> str:
    """What an item says, after its kind and unit."""
    match item.facts:
        case MetricFacts() as facts:
            return _metric_text(item.kind, facts)
        case CommitmentFacts() as facts:
            return _commitment_text(item.kind, facts)
        case FollowupFacts() as facts:
            return _followup_text(facts)
        case EscalationFacts() as facts:
            return _escalation_text(item.unit_name, facts)
        case WrittenFacts(text=text):
            return text


_PROMISE_WORD = {
    "open": "not due yet",
    "kept": "kept",
    "kept_late": "kept late",
    "dropped": "dropped",
    "not_kept": "not kept",
}


def history_text(history: History) -> str:
    """ "Asked 3 times since 2026-W43, last answer (2026-W46): “…”; it promised …: kept." """
    times = "once" if history.asked == 1 else "twice" if history.asked == 2 else f"{history.asked} times"
    text = f"Asked {times} since {history.since_week}"
    if history.last_answer is None:
        return text + ", no answer yet."
    text += f", last answer ({history.last_answer_week}): “{history.last_answer}”"
    promise = history.promise
    if promise is None:
        return text + " — it promised nothing tracked."
    return (
        f"{text} — it promised #{promise.commitment_id} “{promise.text}” by {_day(promise.due_on)}: "
        f"{_PROMISE_WORD[promise.outcome]}."
    )


def item_buttons(item: ExceptionItem) -> list[Button]:
    """The decisions a leader can take on an item, with the ids the handlers need."""
    buttons: list[Button] = []
    if item.metric_key is not None and item.commitment_id is None:
        buttons.append(
            Button(
                label="Ask about this",
                action="followup.ask",
                ids={"unit": item.unit_key, "metric": item.metric_key},
            )
        )
    elif item.commitment_id is not None:
        buttons.append(
            Button(label="Ask about this", action="followup.ask", ids={"commitment": str(item.commitment_id)})
        )
    if item.escalation_id is not None:
        buttons.append(
            Button(
                label="Acknowledge",
                action="escalation.ack",
                ids={"escalation": str(item.escalation_id)},
                style="primary",
            )
        )
    return buttons


def item_parts(item: ExceptionItem) -> list[Part]:
    """One item: severity, kind, unit and what it says, who owes the answer, and the
    leader's decisions."""
    spans: list[Span] = [
        Text(text=f"{_SEVERITY_WORD[item.severity]} · {_KIND_WORD[item.kind]}: ", style="bold"),
        Text(text=item.unit_name, style="bold"),
        Text(text=f" — {item_text(item)}"),
        *_mention(item.owner),
    ]
    parts: list[Part] = [Paragraph(spans=tuple(spans))]
    if item.history is not None:
        parts.append(Note(text=history_text(item.history)))
    buttons = item_buttons(item)
    if buttons:
        parts.append(Buttons(buttons=tuple(buttons)))
    return parts


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}% ({part} of {whole})" if whole else "—"


def _nothing_due_text(digest: Digest) -> str:
    """Why no check-in was due in the covered week."""
    if digest.nothing_due == "all_excused":
        return f"Nothing was due in {digest.week}: every unit was excused."
    if digest.nothing_due == "not_asked" and digest.units_since is not None:
        return (
            f"Nothing was due in {digest.week}: the units were set up on {_day(digest.units_since)}, "
            "after that week's check-ins; their first check-ins open on their next check-in day."
        )
    if digest.nothing_due == "not_asked":
        return f"Nothing was due in {digest.week}: no unit was asked for a check-in that week."
    return f"Nothing was due in {digest.week}: no unit is set up yet (statbot org apply FILE)."


def summary_card(digest: Digest) -> Card:
    states = [r.state for r in digest.reporting]
    on_time, late = states.count("on_time"), states.count("late")
    missing, excused = states.count("missing"), states.count("excused")
    lines = [m for u in digest.scorecard for m in u.metrics]
    reds = sum(m.status == "red" for m in lines)
    ambers = sum(m.status == "amber" for m in lines)
    greens = sum(m.status == "green" for m in lines)
    cadence = digest.cadence
    empty = digest.nothing_due is not None
    checkins = (
        Fact(label="Check-ins", value=f"none due ({_plural(excused, 'unit')} excused)", status="none")
        if digest.nothing_due == "all_excused"
        else Fact(label="Check-ins", value="none due", status="none")
        if empty
        else Fact(
            label="Check-ins",
            value=f"{on_time} on time, {late} late, {missing} not submitted, {excused} excused",
            status="red" if missing else "amber" if late else "green",
        )
    )
    facts = (
        checkins,
        Fact(
            label="Metrics",
            value=f"{reds} off target, {ambers} to watch, {greens} on target",
            status="red" if reds else "amber" if ambers else "green" if greens else "none",
        ),
        Fact(
            label="Commitments",
            value=f"{digest.count('overdue_commitment')} overdue, {digest.count('quiet_commitment')} gone "
            f"quiet, {digest.count('due_this_week')} due this week",
            status="red" if digest.count("overdue_commitment") else "none",
        ),
        Fact(label="Follow-ups unanswered", value=str(digest.count("unanswered_followup"))),
        Fact(label="Escalations open", value=str(digest.count("open_escalation"))),
        Fact(
            label=f"Check-ins on time, {CADENCE_WEEKS} weeks",
            value=_share(cadence.checkins_on_time, cadence.checkins_due),
        ),
    )
    parts: list[Part] = [
        Heading(text=f"Leadership digest · {digest.week}"),
        Note(
            text=f"{digest.organisation} · week of {digest.starts_on:%a %d %b} – {digest.ends_on:%a %d %b %Y}"
        ),
        Facts(facts=facts),
    ]
    top = digest.exceptions[:TOP_ITEMS]
    if empty:
        parts.append(Paragraph(spans=(Text(text=_nothing_due_text(digest)),)))
    if top:
        parts.append(
            Heading(text=f"For your decision: top {len(top)} of {_plural(digest.total_exceptions, 'item')}")
        )
        for item in top:
            parts.extend(item_parts(item))
        parts.append(
            Note(text="Ask about this sends the unit head your question; Acknowledge stops an escalation.")
        )
    elif not empty:
        parts.append(Paragraph(spans=(Text(text="Nothing is off target, overdue or unanswered this week."),)))
    total = digest.total_exceptions
    if empty:
        summary = f"Leadership digest {digest.week}: nothing was due"
    else:
        summary = (
            f"Leadership digest {digest.week}: {_plural(total, 'item')} "
            f"{'needs' if total == 1 else 'need'} attention, "
            f"{_plural(missing, 'check-in')} missing, {_plural(reds, 'metric')} off target"
        )
    return Card(parts=tuple(parts), summary=summary)


def _line_label(line: MetricLine) -> str:
    label = f"{line.name}: {line.value_text} (target {line.target_text})"
    if line.change == 0:
        label += " no change vs last week"
    elif line.change_text:
        label += f" {line.change_text} vs last week"
    if line.off_target_weeks >= 2:
        label += f" · off target {line.off_target_weeks} weeks"
    if line.target_changes:
        label += f" · {_target_changes_text(line.target_changes)}"
    return label


def _unit_parts(unit: UnitScore) -> list[Part]:
    reported = {
        "on_time": "reported on time",
        "late": "reported late",
        "missing": "did not report",
        "excused": "excused",
    }[unit.reported]
    spans: list[Span] = [
        Text(text=unit.unit_name, style="bold"),
        Text(text=f" — {_STATUS_WORD[unit.status]}, {reported}"),
        *_mention(unit.head),
    ]
    if unit.status == "none" and not any(any(v is not None for v in m.sparkline) for m in unit.metrics):
        # A silent unit is one line: no readings on record in the whole window.
        spans.insert(2, Text(text=f" · no readings yet ({_plural(len(unit.metrics), 'metric')})"))
        return [Paragraph(spans=tuple(spans))]
    if unit.status == "none":
        # No readings this week: one line, with the last value each metric had.
        spans.insert(2, Text(text=" · no readings this week"))
        return [Paragraph(spans=tuple(spans))]
    parts: list[Part] = [Paragraph(spans=tuple(spans))]
    parts.extend(
        Sparkline(label=_line_label(line), values=line.sparkline, status=line.status) for line in unit.metrics
    )
    worst = next((m for m in unit.metrics if m.status == "red"), None) or next(
        (m for m in unit.metrics if m.status == "amber"), None
    )
    if worst is not None:
        parts.append(
            Buttons(
                buttons=(
                    Button(
                        label="Ask about this",
                        action="followup.ask",
                        ids={"unit": unit.unit_key, "metric": worst.metric_key},
                    ),
                )
            )
        )
    return parts


def scorecard_card(digest: Digest) -> Card:
    parts: list[Part] = [Heading(text=f"Scorecard · {digest.week}")]
    shown = digest.scorecard[:MAX_SCORECARD_UNITS]
    for index, unit in enumerate(shown):
        if index:
            parts.append(Divider())
        parts.extend(_unit_parts(unit))
    rest = digest.scorecard[MAX_SCORECARD_UNITS:]
    if rest:
        problems = sum(1 for u in rest if u.status in ("red", "amber") or u.reported == "missing")
        parts.append(
            Note(
                text=f"{_plural(len(rest), 'more unit')} ({problems} with something off target or "
                "missing): /stat status <unit> shows one."
            )
        )
    if not digest.scorecard:
        parts.append(Paragraph(spans=(Text(text="No units reported this week."),)))
    return Card(parts=tuple(parts), summary=f"Scorecard {digest.week}: {len(digest.scorecard)} units")


def exceptions_card(digest: Digest) -> Card | None:
    rest = digest.exceptions[TOP_ITEMS:]
    if not rest:
        return None
    parts: list[Part] = [Heading(text=f"Also needing attention · {digest.week}")]
    for item in rest:
        parts.extend(item_parts(item))
    unlisted = digest.total_exceptions - len(digest.exceptions)
    if unlisted > 0:
        parts.append(
            Note(text=f"…and {_plural(unlisted, 'more item')} of lower rank: /stat overdue lists them.")
        )
    return Card(parts=tuple(parts), summary=f"{_plural(len(rest), 'more item')} needing attention")


def _names(entries: Sequence[ReportingEntry]) -> str:
    shown = ", ".join(e.unit_name for e in entries[:MAX_LISTED])
    return shown + (f" and {len(entries) - MAX_LISTED} more" if len(entries) > MAX_LISTED else "")


def reporting_card(digest: Digest) -> Card:
    by_state = {
        s: [r for r in digest.reporting if r.state == s] for s in ("on_time", "late", "missing", "excused")
    }
    parts: list[Part] = [Heading(text=f"Who reported · {digest.week}")]
    if by_state["missing"]:
        title = f"Not submitted ({len(by_state['missing'])})"
        parts.append(Paragraph(spans=(Text(text=title, style="bold"),)))
        for entry in by_state["missing"][:MAX_LISTED]:
            chased = (
                f" — escalating, {_plural(entry.messages_sent, 'message')} sent"
                if entry.escalation_id is not None and entry.messages_sent
                else ""
            )
            parts.append(Paragraph(spans=(Text(text=entry.unit_name + chased), *_mention(entry.head))))
        acks = [
            e for e in by_state["missing"][:MAX_LISTED] if e.escalation_id is not None and e.messages_sent
        ]
        if acks:
            parts.append(
                Buttons(
                    buttons=tuple(
                        Button(
                            label=f"Acknowledge {e.unit_name}"[:40],
                            action="escalation.ack",
                            ids={"escalation": str(e.escalation_id)},
                        )
                        for e in acks[:5]
                    )
                )
            )
    if by_state["late"]:
        parts.append(Paragraph(spans=(Text(text=f"Late ({len(by_state['late'])})", style="bold"),)))
        for entry in by_state["late"][:MAX_LISTED]:
            when = (
                f" — submitted {_moment(entry.submitted_at, digest.timezone)}" if entry.submitted_at else ""
            )
            parts.append(Paragraph(spans=(Text(text=entry.unit_name + when), *_mention(entry.submitted_by))))
    if by_state["excused"]:
        parts.append(Paragraph(spans=(Text(text=f"Excused ({len(by_state['excused'])})", style="bold"),)))
        for entry in by_state["excused"][:MAX_LISTED]:
            parts.append(Paragraph(spans=(Text(text=f"{entry.unit_name} — {entry.excuse or 'excused'}"),)))
    if digest.unreachable:
        title = f"The bot cannot reach ({len(digest.unreachable)})"
        parts.append(Paragraph(spans=(Text(text=title, style="bold"),)))
        for person in digest.unreachable[:MAX_LISTED]:
            parts.append(Paragraph(spans=(Text(text=f"{person.name} <{person.email}> — {person.reason}"),)))
    if by_state["on_time"]:
        parts.append(
            Paragraph(
                spans=(
                    Text(text=f"On time ({len(by_state['on_time'])}): ", style="bold"),
                    Text(text=_names(by_state["on_time"])),
                )
            )
        )
    return Card(
        parts=tuple(parts),
        summary=f"{len(by_state['on_time'])} on time, {len(by_state['late'])} late, "
        f"{len(by_state['missing'])} not submitted, {len(by_state['excused'])} excused",
    )


def _promise_parts(item: PromiseItem) -> Paragraph:
    return Paragraph(
        spans=(
            Text(text=f"{_OUTCOME_WORD[item.outcome]}: ", style="bold"),
            Text(text=f"{item.unit_name} — #{item.commitment_id} “{item.text}” (due {item.due_on:%a %d %b})"),
            *_mention(item.owner),
        )
    )


def promises_card(digest: Digest) -> Card:
    kept = sum(p.outcome in ("kept", "kept_late") for p in digest.promises)
    parts: list[Part] = [
        Heading(text=f"Promised vs delivered · due {digest.week}"),
        Note(
            text=f"{kept} of {_plural(len(digest.promises), 'commitment')} due last week "
            f"{'was' if len(digest.promises) == 1 else 'were'} kept."
        ),
    ]
    parts.extend(_promise_parts(p) for p in digest.promises[:MAX_LISTED])
    if len(digest.promises) > MAX_LISTED:
        more = len(digest.promises) - MAX_LISTED
        parts.append(Note(text=f"…and {more} more: /stat commitments lists them."))
    broken = [p for p in digest.promises if p.outcome == "not_kept"]
    if broken:
        parts.append(
            Buttons(
                buttons=tuple(
                    Button(
                        label=f"Ask about #{p.commitment_id}",
                        action="followup.ask",
                        ids={"commitment": str(p.commitment_id)},
                    )
                    for p in broken[:5]
                )
            )
        )
    return Card(parts=tuple(parts), summary=f"Promised vs delivered: {kept} of {len(digest.promises)} kept")


def _grade(share: float | None, green: float, amber: float) -> Status:
    if share is None:
        return "none"
    return "green" if share >= green else "amber" if share >= amber else "red"


def cadence_card(digest: Digest) -> Card:
    c = digest.cadence
    on_time = c.on_time_share
    answered = c.answered_share
    followups = _share(c.followups_answered, c.followups_asked)
    if c.followups_waiting:
        followups += f", {c.followups_waiting} not yet due"
    facts = [
        Fact(
            label=f"Check-ins on time ({c.weeks[0]} – {c.weeks[-1]})",
            value=_share(c.checkins_on_time, c.checkins_due),
            status=_grade(on_time, 0.9, 0.75),
        ),
        Fact(
            label=f"Leaders' follow-ups answered ({CADENCE_WEEKS} weeks)",
            value=followups,
            status=_grade(answered, 0.9, 0.7),
        ),
    ]
    if c.flagged_last_week is not None and c.flagged_acted_on is not None:
        acted = c.flagged_acted_on / c.flagged_last_week
        facts.append(
            Fact(
                label="Items flagged last week that got a leader action",
                value=_share(c.flagged_acted_on, c.flagged_last_week),
                status="green" if acted >= 0.5 else "amber" if acted > 0 else "red",
            )
        )
    facts.append(Fact(label="Leader actions since last digest", value=str(c.leader_actions)))
    if c.sessions_scheduled:
        cancelled = f", {c.sessions_cancelled} cancelled" if c.sessions_cancelled else ""
        facts.append(
            Fact(
                label="Stat sessions held (4 weeks)",
                value=f"{c.sessions_held} of {c.sessions_scheduled}{cancelled} · memos on time: "
                f"{c.memos_on_time} of {c.sessions_held}",
                status="green" if c.sessions_held == c.sessions_scheduled else "amber",
            )
        )
    return Card(
        parts=(
            Heading(text="Cadence health"),
            Facts(facts=tuple(facts)),
            Note(
                text="The weekly practice only works while leaders keep asking: every item above "
                "has a button for your decision."
            ),
        ),
        summary="Cadence health: " + _share(c.checkins_on_time, c.checkins_due) + " of check-ins on time",
    )


def charts_card(digest: Digest, chart_refs: Sequence[Image]) -> Card | None:
    if not chart_refs:
        return None
    parts: list[Part] = [
        Heading(text=f"Trends needing attention · last {len(digest.charts[0].weeks)} weeks")
        if digest.charts
        else Heading(text="Trends")
    ]
    parts.extend(chart_refs)
    return Card(parts=tuple(parts), summary="Trend charts of the metrics needing attention")


def digest_cards(digest: Digest, *, chart_refs: Sequence[Image] = ()) -> list[Card]:
    cards: list[Card | None] = [
        summary_card(digest),
        scorecard_card(digest),
        charts_card(digest, chart_refs),
        exceptions_card(digest),
        reporting_card(digest),
        promises_card(digest) if digest.promises else None,
        cadence_card(digest),
    ]
    return [card for card in cards if card is not None]


def digest_text(digest: Digest, *, chart_refs: Sequence[Image] = ()) -> str:
    """The whole digest as plain text (the demo's files, logs, email fallbacks)."""
    return "\n\n".join(card.plain_text() for card in digest_cards(digest, chart_refs=chart_refs)) + "\n"
