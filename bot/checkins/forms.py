"""The check-in form and its validation: pure functions over what the service loads.

Input names: ``m.<metric>`` a number, ``why.<metric>`` its explanation, ``c.<id>`` /
``cdate.<id>`` / ``cnote.<id>`` an open commitment's status, new date and note,
``new.text`` / ``new.due`` / ``new.owner`` a new commitment.  Every platform sends values
back as strings keyed by these names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.checkins.status import (
    format_value,
    metric_status,
    outlier_ratio,
    recent_median,
    target_text,
    unit_label,
)
from bot.commitments.models import Commitment
from bot.messages import (
    ChoiceInput,
    DateInput,
    Fact,
    Facts,
    Form,
    Input,
    Note,
    NumberInput,
    Option,
    Part,
    TextInput,
    paragraph,
)
from bot.messages.text import counted
from bot.org.models import Metric, Person, Unit
from bot.parsing import parse_date, parse_number
from bot.weeks import monday_of, shift_week

SUBMIT = "checkin.submit"
MAX_FORM_COMMITMENTS = 12
CONFIRM = "checkin.confirm"
KEEP, DONE, MOVED, DROPPED = "keep", "done", "moved", "dropped"
_STATUS_OPTIONS = (
    Option(value=KEEP, label="Still on track"),
    Option(value=DONE, label="Done"),
    Option(value=MOVED, label="Needs a new date"),
    Option(value=DROPPED, label="Dropped"),
)


@dataclass(frozen=True, slots=True)
class MetricContext:
    """A metric with what the form shows beside it."""

    metric: Metric
    last_value: float | None
    history: tuple[float, ...]  # the data-check window, oldest first
    current: float | None = None  # already submitted this week (an edit)


@dataclass(slots=True)
class CommitmentChange:
    commitment: Commitment
    status: str  # one of KEEP, DONE, MOVED, DROPPED
    due_on: dt.date | None = None
    note: str = ""


@dataclass(slots=True)
class NewCommitment:
    text: str
    due_on: dt.date
    owner_id: int


@dataclass(slots=True)
class Validated:
    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    changes: list[CommitmentChange] = field(default_factory=list)
    new: NewCommitment | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # metric key → how many times the recent median the value is
    outliers: dict[str, float] = field(default_factory=dict)


def _name(metric: Metric) -> str:
    return f"m.{metric.key}"


def _range_text(metric: Metric) -> str:
    low = "" if metric.minimum is None else format_value(metric, metric.minimum)
    high = "" if metric.maximum is None else format_value(metric, metric.maximum)
    if low and high:
        return f"{low} to {high}"
    if low:
        return f"at least {low}"
    return f"at most {high}" if high else ""


def metric_hint(ctx: MetricContext) -> str:
    last = format_value(ctx.metric, ctx.last_value) if ctx.last_value is not None else "no reading"
    return f"Last week: {last} · Target: {target_text(ctx.metric)}"


def due_hint(week: str) -> str:
    """An example due date that is true: the Friday of the week after the check-in's week."""
    friday = monday_of(shift_week(week, 1)) + dt.timedelta(days=4)
    return f"e.g. friday, {friday:%b} {friday.day} or {friday.isoformat()}"


def why_input(metric: Metric, value: str | None = None) -> TextInput:
    """The explanation asked for a value that misses its target."""
    return TextInput(
        name=f"why.{metric.key}",
        label=f"Why is {metric.name} off target?",
        optional=True,
        hint="One sentence is enough.",
        value=value,
        max_length=500,
    )


def _misses_target(metric: Metric, typed: str | None) -> bool:
    if typed is None:
        return False
    try:
        return metric_status(metric, parse_number(typed, integer=metric.integer)) == "red"
    except ValueError:
        return False


def checkin_form(
    *,
    checkin_id: int,
    unit: Unit,
    week: str,
    metrics: Sequence[MetricContext],
    commitments: Sequence[Commitment],
    owners: Mapping[int, Person],
    unit_people: Sequence[Person],
    draft: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    deadline: str = "",
    more_commitments: int = 0,
) -> Form:
    inputs: list[Input] = []
    for ctx in metrics:
        m = ctx.metric
        typed = draft.get(_name(m))
        if typed is None and ctx.current is not None:
            typed = f"{ctx.current:g}"
        inputs.append(
            NumberInput(
                name=_name(m),
                label=m.name,
                unit=unit_label(m),
                hint=metric_hint(ctx),
                minimum=m.minimum,
                maximum=m.maximum,
                integer=m.integer,
                value=typed,
            )
        )
        why = f"why.{m.key}"
        if _misses_target(m, typed) or draft.get(why) or why in (errors or {}):
            # Asked only for a value that misses its target, right after it: a value
            # typed red on submit brings the form back with this field and its error.
            inputs.append(why_input(m, draft.get(why)))
    for c in commitments:
        owner = owners.get(c.owner_id)
        label = f"#{c.id} {c.text}"[:150]
        hint = f"Due {c.due_on:%a %d %b}" + (f" · {owner.name}" if owner else "")
        inputs.append(
            ChoiceInput(
                name=f"c.{c.id}",
                label=label,
                options=_STATUS_OPTIONS,
                hint=hint,
                value=draft.get(f"c.{c.id}", KEEP),
            )
        )
        inputs.append(
            DateInput(
                name=f"cdate.{c.id}",
                label=f"New date for #{c.id}",
                optional=True,
                value=draft.get(f"cdate.{c.id}"),
                hint="Only if it needs a new date.",
            )
        )
        inputs.append(
            TextInput(
                name=f"cnote.{c.id}",
                label=f"Note on #{c.id}",
                optional=True,
                value=draft.get(f"cnote.{c.id}"),
                hint="Needed when dropped: why.",
                max_length=500,
            )
        )
    inputs.append(
        TextInput(
            name="new.text",
            label="New commitment (optional)",
            optional=True,
            value=draft.get("new.text"),
            max_length=500,
            hint='What will be done, e.g. "Clear the permit backlog"',
        )
    )
    inputs.append(
        DateInput(
            name="new.due",
            label="New commitment due",
            optional=True,
            value=draft.get("new.due"),
            hint=due_hint(week),
        )
    )
    if len(unit_people) > 1:
        inputs.append(
            ChoiceInput(
                name="new.owner",
                label="New commitment owner",
                optional=True,
                options=tuple(Option(value=str(p.id), label=p.name) for p in unit_people),
                value=draft.get("new.owner", str(unit_people[0].id)),
            )
        )
    intro: list[Part] = [paragraph(f"{unit.name}, week {week}.")]
    if deadline:
        intro.append(Note(text=f"Due {deadline}. What you type is kept as a draft."))
    if more_commitments:
        intro.append(
            Note(
                text=f"{counted(more_commitments, 'more open commitment')} "
                f"{'is' if more_commitments == 1 else 'are'} not listed here: "
                "`commitments` shows them, `done <id>` and `update <id> <note>` close or update them."
            )
        )
    return Form(
        action=SUBMIT,
        ids={"checkin": str(checkin_id)},
        title=f"{unit.name} · {week}"[:60],
        submit_label="Submit",
        intro=tuple(intro),
        inputs=tuple(inputs),
        errors=dict(errors or {}),
    )


def validate(
    values: Mapping[str, str],
    *,
    metrics: Sequence[MetricContext],
    commitments: Sequence[Commitment],
    unit_people: Sequence[Person],
    submitter: Person,
    today: dt.date,
    factor: float,
    confirmed: Mapping[str, float] | None = None,
) -> Validated:
    """Check every field at once; every problem is keyed by its input name."""
    out = Validated()
    confirmed = confirmed or {}
    for ctx in metrics:
        m, name = ctx.metric, _name(ctx.metric)
        raw = (values.get(name) or "").strip()
        if not raw:
            out.errors[name] = f"Enter this week's {m.name.lower()}."
            continue
        try:
            number = parse_number(raw, integer=m.integer)
        except ValueError as exc:
            out.errors[name] = str(exc)
            continue
        if (m.minimum is not None and number < m.minimum) or (m.maximum is not None and number > m.maximum):
            out.errors[name] = f"{format_value(m, number)} is outside the valid range ({_range_text(m)})."
            continue
        out.values[m.key] = number
        why = (values.get(f"why.{m.key}") or "").strip()
        if why:
            out.notes[m.key] = why[:500]
        if metric_status(m, number) == "red" and not why:
            out.errors[f"why.{m.key}"] = (
                f"{format_value(m, number)} misses the target ({target_text(m)}): add a short explanation."
            )
        ratio = outlier_ratio(number, ctx.history, factor)
        if ratio is not None and confirmed.get(m.key) != number:
            out.outliers[m.key] = ratio
    people = {str(p.id): p for p in unit_people}
    for c in commitments:
        status = (values.get(f"c.{c.id}") or KEEP).strip()
        if status not in (KEEP, DONE, MOVED, DROPPED):
            out.errors[f"c.{c.id}"] = "Choose on track, done, new date or dropped."
            continue
        note = (values.get(f"cnote.{c.id}") or "").strip()[:500]
        new_date_raw = (values.get(f"cdate.{c.id}") or "").strip()
        new_date: dt.date | None = None
        if new_date_raw:
            try:
                new_date = parse_date(new_date_raw, today=today)
            except ValueError as exc:
                out.errors[f"cdate.{c.id}"] = str(exc)
                continue
        if status == MOVED and new_date is None:
            out.errors[f"cdate.{c.id}"] = f"Give #{c.id} its new date."
            continue
        if status == DROPPED and not note:
            out.errors[f"cnote.{c.id}"] = f"Say in a few words why #{c.id} is dropped."
            continue
        if status == KEEP and new_date is not None:
            status = MOVED
        out.changes.append(CommitmentChange(c, status, new_date, note))
    text = (values.get("new.text") or "").strip()
    due_raw = (values.get("new.due") or "").strip()
    if text or due_raw:
        if not text:
            out.errors["new.text"] = "What is the new commitment? (or clear its due date)"
        if not due_raw:
            out.errors["new.due"] = "When is the new commitment due?"
        else:
            try:
                due = parse_date(due_raw, today=today)
            except ValueError as exc:
                out.errors["new.due"] = str(exc)
                due = None
            owner_key = (values.get("new.owner") or "").strip()
            owner = people.get(owner_key, submitter)
            if owner_key and owner_key not in people:
                names = ", ".join(p.name for p in unit_people)
                out.errors["new.owner"] = f"Choose the owner among {names}."
            elif text and due is not None:
                assert owner.id is not None
                out.new = NewCommitment(text[:500], due, owner.id)
    return out


def confirm_form(
    *,
    checkin_id: int,
    unit: Unit,
    week: str,
    metrics: Sequence[MetricContext],
    values: Mapping[str, float],
    outliers: Mapping[str, float],
    errors: Mapping[str, str] | None = None,
) -> Form:
    """The data check: ask about values far from their recent median."""
    facts: list[Fact] = []
    inputs: list[Input] = []
    for ctx in metrics:
        m = ctx.metric
        if m.key not in outliers:
            continue
        value = values[m.key]
        median = recent_median(ctx.history)
        ratio = outliers[m.key]
        times = "far from" if ratio == float("inf") else f"{ratio:.0f}× away from"
        facts.append(
            Fact(
                label=m.name,
                value=f"{format_value(m, value)} is {times} the recent median ({format_value(m, median)})",
                status=metric_status(m, value),
            )
        )
        inputs.append(
            ChoiceInput(
                name=f"ok.{m.key}",
                label=f"Is {format_value(m, value)} right for {m.name}?",
                options=(
                    Option(value="confirm", label="Yes, it is right"),
                    Option(value="correct", label="No, use the corrected value below"),
                ),
                value="confirm",
            )
        )
        inputs.append(
            NumberInput(
                name=_name(m),
                label=f"{m.name} (corrected)",
                unit=unit_label(m),
                minimum=m.minimum,
                maximum=m.maximum,
                integer=m.integer,
                value=f"{value:g}",
                hint=metric_hint(ctx),
            )
        )
    return Form(
        action=CONFIRM,
        ids={"checkin": str(checkin_id)},
        title=f"Check · {unit.name}"[:60],
        submit_label="Confirm",
        intro=(
            paragraph("Some values are far from recent weeks. Confirm or correct them."),
            Facts(facts=tuple(facts)),
        ),
        inputs=tuple(inputs),
        errors=dict(errors or {}),
    )
