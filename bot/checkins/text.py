"""Check-in answers typed as plain text (`filled 412, backlog 35`), with the same
validation and data check as the form; ambiguity gets a question back, never a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from bot.checkins import forms
from bot.checkins.answers import MetricLabel, parse_answer
from bot.checkins.forms import MetricContext
from bot.checkins.service import Loaded, confirm, draft_values, finalise, load, today_of
from bot.checkins.status import format_value, target_text
from bot.messages import Reply
from bot.org.context import load_context
from bot.org.models import Person
from bot.permissions import NotAllowed, require_submit
from bot.ports import UnitOfWork

log = logging.getLogger(__name__)

# --- plain-text answers --------------------------------------------------------------------


async def text_answer(uow: UnitOfWork, person: Person, text: str, now: dt.datetime) -> Reply | None:
    """Read ``filled 412, backlog 35`` as a check-in answer; None when the person has no
    open check-in (the caller then answers with help)."""
    assert person.id is not None
    open_ = [c for c in await uow.checkins.open_for_person(person.id)]
    if not open_:
        return None
    ctx = await load_context(uow)
    checkin = open_[-1]
    unit = await uow.units.get(checkin.unit_id)
    assert unit is not None
    try:
        require_submit(person, unit)
    except NotAllowed:
        return None
    loaded = await load(uow, ctx, checkin)
    typed = draft_values(checkin)
    stripped = text.strip()
    lowered = stripped.lower()
    pending = checkin.draft.get("pending") if isinstance(checkin.draft.get("pending"), dict) else None
    if lowered in ("confirm", "yes", "confirmed") and pending:
        assert checkin.id is not None
        return await confirm(uow, person, checkin.id, {f"ok.{k}": "confirm" for k in pending}, now)
    if lowered.startswith("why "):
        return await _why(uow, loaded, person, stripped[4:], typed, now)
    labels = [MetricLabel(key=c.metric.key, name=c.metric.name) for c in loaded.metrics]
    parsed = parse_answer(stripped, labels)
    if not parsed.values:
        return Reply.text(
            (parsed.question or "; ".join(parsed.problems) or "I could not read any numbers.")
            + _missing_text(loaded, typed)
        )
    for key, raw in parsed.values.items():
        typed[f"m.{key}"] = raw
    checkin.draft = {"values": typed}
    if parsed.question or parsed.problems:
        await uow.checkins.save(checkin)
        await uow.commit()
        return Reply.text((parsed.question or "; ".join(parsed.problems)) + _missing_text(loaded, typed))
    return await _check_typed(uow, loaded, person, typed, now)


def _missing_text(loaded: Loaded, typed: Mapping[str, str]) -> str:
    missing = [c.metric.name for c in loaded.metrics if not typed.get(f"m.{c.metric.key}")]
    if not missing:
        return ""
    return f"\nStill needed for {loaded.checkin.week}: " + ", ".join(missing) + "."


async def _why(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    rest: str,
    typed: dict[str, str],
    now: dt.datetime,
) -> Reply:
    name, _, reason = rest.partition(":")
    labels = [MetricLabel(key=c.metric.key, name=c.metric.name) for c in loaded.metrics]
    matches = [
        label
        for label in labels
        if name.strip().lower() in (label.key, label.name.lower())
        or name.strip().lower() in label.name.lower()
    ]
    if len(matches) != 1 or not reason.strip():
        return Reply.text("Write the explanation like: why backlog: two crews were out sick")
    typed[f"why.{matches[0].key}"] = reason.strip()
    loaded.checkin.draft = {"values": typed}
    return await _check_typed(uow, loaded, person, typed, now)


async def _check_typed(
    uow: UnitOfWork,
    loaded: Loaded,
    person: Person,
    typed: dict[str, str],
    now: dt.datetime,
) -> Reply:
    ctx = await load_context(uow)
    checkin = loaded.checkin
    checkin.draft = {"values": typed}
    missing = _missing_text(loaded, typed)
    if missing:
        await uow.checkins.save(checkin)
        await uow.commit()
        got = [
            f"{c.metric.name} {typed[f'm.{c.metric.key}']}"
            for c in loaded.metrics
            if typed.get(f"m.{c.metric.key}")
        ]
        return Reply.text("Got it: " + ", ".join(got) + "." + missing)
    validated = forms.validate(
        typed,
        metrics=loaded.metrics,
        commitments=[],
        unit_people=loaded.unit_people,
        submitter=person,
        today=today_of(person, now),
        factor=ctx.organisation.data_check.factor,
    )
    if validated.errors:
        await uow.checkins.save(checkin)
        await uow.commit()
        lines = [_error_line(loaded.metrics, name, message) for name, message in validated.errors.items()]
        return Reply.text("Not stored yet:\n" + "\n".join(lines))
    if validated.outliers:
        checkin.draft["pending"] = {k: validated.values[k] for k in validated.outliers}
        await uow.checkins.save(checkin)
        await uow.commit()
        lines = []
        for c in loaded.metrics:
            if c.metric.key in validated.outliers:
                ratio = validated.outliers[c.metric.key]
                times = "far from" if ratio == float("inf") else f"{ratio:.0f}× away from"
                lines.append(
                    f"{c.metric.name}: {format_value(c.metric, validated.values[c.metric.key])} is "
                    f"{times} recent weeks (target {target_text(c.metric)})."
                )
        return Reply.text("\n".join(lines) + "\nReply `confirm` to keep it, or send the corrected value.")
    reply = await finalise(uow, loaded, person, validated, set(), now)
    await uow.commit()
    return reply


def _error_line(metrics: Sequence[MetricContext], name: str, message: str) -> str:
    kind, _, key = name.partition(".")
    label = next((c.metric.name for c in metrics if c.metric.key == key), key)
    if kind == "why":
        return f"• {label}: {message} Reply like: why {key}: <reason>"
    return f"• {label}: {message}"
