"""Leaders' follow-up questions: "Ask about this" from a digest item or an escalation,
or `ask <unit> <question>`.  A follow-up is a commitment owed by the unit head (origin
"followup"): it has a due date, shows in the next digest, and escalates when unanswered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from bot.commitments.record import open_commitment
from bot.commitments.service import find_unit
from bot.deliveries.models import Delivery, DeliveryKey
from bot.deliveries.service import enqueue
from bot.messages import (
    Button,
    Buttons,
    Card,
    DateInput,
    Form,
    Heading,
    Mention,
    Note,
    Reply,
    Text,
    TextInput,
    paragraph,
)
from bot.messages.text import possessive
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.parsing import parse_date
from bot.permissions import NotAllowed, is_unit_member, require_read
from bot.ports import UnitOfWork

ASK, ANSWER = "followup.ask", "followup.answer"
WORKING_DAYS_TO_ANSWER = 2


def require_ask(person: Person, unit: Unit) -> None:
    if not (person.is_leader or "analyst" in person.roles or person.id == unit.leader_id):
        raise NotAllowed("Follow-up questions are for leaders and analysts.")
    # Asking about a restricted unit would reveal it through the answer.
    require_read(person, unit)


def default_due(ctx: OrgContext, today: dt.date) -> dt.date:
    day = today
    for _ in range(WORKING_DAYS_TO_ANSWER):
        day = ctx.calendar.next_working_day(day + dt.timedelta(days=1))
    return day


async def ask_form(uow: UnitOfWork, person: Person, ids: Mapping[str, str], now: dt.datetime) -> Reply:
    """The question form behind an "Ask about this" button."""
    unit = await find_unit(uow, ids.get("unit", ""))
    require_ask(person, unit)
    ctx = await load_context(uow)
    suggestion = ""
    metric_key = ids.get("metric")
    if metric_key and unit.id is not None:
        metric = next((m for m in await uow.metrics.for_unit(unit.id) if m.key == metric_key), None)
        if metric is not None:
            suggestion = f"What is the plan to bring {metric.name} back on target?"
    commitment_id = ids.get("commitment")
    if commitment_id and commitment_id.isdigit():
        commitment = await uow.commitments.get(int(commitment_id))
        if commitment is not None:
            suggestion = f"Where does #{commitment.id} ({commitment.text[:80]}) stand, and what do you need?"
    today = now.astimezone(ZoneInfo(person.timezone)).date()
    due = default_due(ctx, today)
    return Reply(
        messages=(
            Form(
                action=ASK,
                ids={k: v for k, v in ids.items() if k in ("unit", "metric", "commitment", "escalation")},
                title=f"Ask {unit.name}"[:60],
                submit_label="Ask",
                intro=(
                    paragraph(f"Your question goes to {possessive(unit.name)} head, who owes you an answer."),
                ),
                inputs=(
                    TextInput(
                        name="question",
                        label="Question",
                        multiline=True,
                        max_length=1000,
                        value=suggestion or None,
                    ),
                    DateInput(name="due", label="Answer by", value=due.isoformat(), initial=due),
                ),
            ),
        )
    )


async def ask(
    uow: UnitOfWork,
    person: Person,
    unit_name: str,
    question: str,
    due_text: str | None,
    now: dt.datetime,
    about: Mapping[str, str] | None = None,
) -> Reply:
    """Send the question; ``about`` names the digest item or escalation it came from
    (metric, commitment, escalation ids), so the digest can count the leader's action."""
    unit = await find_unit(uow, unit_name)
    require_ask(person, unit)
    question = question.strip()
    if not question:
        raise NotAllowed("What is the question? e.g. ask streets Why did the backlog double?")
    ctx = await load_context(uow)
    today = now.astimezone(ZoneInfo(person.timezone)).date()
    due = parse_date(due_text, today=today) if due_text else default_due(ctx, today)
    owner_id = unit.head_id
    local_today = now.astimezone(ZoneInfo(unit.timezone)).date()
    if any(p.covers(local_today) for p in await uow.away.for_person(unit.head_id)) and unit.deputy_id:
        owner_id = unit.deputy_id
    owner = await uow.people.get(owner_id)
    assert owner is not None and owner.id is not None and unit.id is not None
    followup = await open_commitment(
        uow,
        unit_id=unit.id,
        owner_id=owner.id,
        text=question[:1000],
        due_on=due,
        origin="followup",
        by=person.id,
        now=now,
        note="asked",
        asked_by=person.id,
    )
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="followup.asked",
            subject=f"commitment:{followup.id}",
            detail={
                "unit": unit.key,
                "question": question[:200],
                **{k: v for k, v in (about or {}).items() if k in ("metric", "commitment", "escalation")},
            },
        )
    )
    card = Card(
        parts=(
            Heading(text=f"Question from {person.name}"),
            paragraph(Mention(email=person.email, name=person.name), " asks ", unit.name, ":"),
            paragraph(Text(text=question, style="italic")),
            Note(text=f"Please answer by {due:%a %d %b}. Follow-up #{followup.id}."),
            Buttons(
                buttons=(
                    Button(
                        label="Answer", action=ANSWER, ids={"commitment": str(followup.id)}, style="primary"
                    ),
                )
            ),
        ),
        summary=f"{person.name} asks {unit.name}: {question[:100]}",
    )
    assert followup.id is not None
    await enqueue(
        uow,
        audience=Delivery.to_person(owner.id),
        message=card,
        key=DeliveryKey.followup_asked(followup.id),
        now=now,
        # Asked at night, it reaches the head at the start of their working day.
        not_before=ctx.calendar.next_working_moment(now, owner.timezone),
    )
    await uow.commit()
    return Reply.text(
        f"Asked {owner.name} ({unit.name}), answer due {due:%a %d %b}: {question} (follow-up #{followup.id})"
    )


async def ask_submitted(
    uow: UnitOfWork, person: Person, ids: Mapping[str, str], values: Mapping[str, str], now: dt.datetime
) -> Reply:
    question = (values.get("question") or "").strip()
    due = (values.get("due") or "").strip() or None
    errors = {}
    if not question:
        errors["question"] = "Write the question."
    if due:
        try:
            parse_date(due, today=now.astimezone(ZoneInfo(person.timezone)).date())
        except ValueError as exc:
            errors["due"] = str(exc)
    if errors:
        form = (await ask_form(uow, person, ids, now)).messages[0]
        assert isinstance(form, Form)
        inputs = tuple(i.model_copy(update={"value": values.get(i.name, i.value)}) for i in form.inputs)
        return Reply(messages=(form.model_copy(update={"errors": errors, "inputs": inputs}),))
    return await ask(uow, person, ids.get("unit", ""), question, due, now, about=ids)


async def answer_form(uow: UnitOfWork, person: Person, commitment_id: int) -> Reply:
    followup = await _owned(uow, person, commitment_id)
    return Reply(
        messages=(
            Form(
                action=ANSWER,
                ids={"commitment": str(commitment_id)},
                title="Answer the question",
                submit_label="Send answer",
                intro=(paragraph(Text(text=followup.text, style="italic")),),
                inputs=(TextInput(name="answer", label="Your answer", multiline=True, max_length=3000),),
            ),
        )
    )


async def _owned(uow: UnitOfWork, person: Person, commitment_id: int) -> Commitment:
    followup = await uow.commitments.get(commitment_id)
    if followup is None or followup.origin != "followup":
        raise NotAllowed("That question no longer exists.")
    unit = await uow.units.get(followup.unit_id)
    assert unit is not None
    if not (followup.owner_id == person.id or is_unit_member(person, unit)):
        raise NotAllowed(f"Only {possessive(unit.name)} head or deputy can answer it.")
    if followup.status != CommitmentStatus.OPEN:
        raise NotAllowed(f"Follow-up #{commitment_id} was already answered.")
    return followup


async def answer(
    uow: UnitOfWork, person: Person, commitment_id: int, values: Mapping[str, str], now: dt.datetime
) -> Reply:
    text = (values.get("answer") or "").strip()
    if not text:
        form = (await answer_form(uow, person, commitment_id)).messages[0]
        assert isinstance(form, Form)
        return Reply(messages=(form.model_copy(update={"errors": {"answer": "Write your answer."}}),))
    followup = await _owned(uow, person, commitment_id)
    followup.answer, followup.status = text[:3000], CommitmentStatus.DONE
    followup.closed_at, followup.updated_at = now, now
    await uow.commitments.save(followup)
    await uow.commitments.add_update(
        CommitmentUpdate(
            commitment_id=commitment_id,
            at=now,
            by=person.id,
            status=CommitmentStatus.DONE,
            due_on=followup.due_on,
            note="answered",
        )
    )
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=person.id, action="followup.answered", subject=f"commitment:{commitment_id}"
        )
    )
    asker = await uow.people.get(followup.asked_by) if followup.asked_by is not None else None
    if asker is not None and asker.id is not None:
        ctx = await load_context(uow)
        unit = await uow.units.get(followup.unit_id)
        card = Card(
            parts=(
                Heading(text=f"Answer from {unit.name if unit else 'the unit'}"),
                paragraph(Mention(email=person.email, name=person.name), " answered your question:"),
                paragraph(Text(text=followup.text, style="italic")),
                paragraph(text),
            ),
            summary=f"{person.name} answered: {text[:100]}",
        )
        await enqueue(
            uow,
            audience=Delivery.to_person(asker.id),
            message=card,
            key=DeliveryKey.followup_answered(commitment_id),
            now=now,
            not_before=ctx.calendar.next_working_moment(now, asker.timezone),
        )
    await uow.commit()
    return Reply.text(f"Thanks, your answer to follow-up #{commitment_id} was sent.")
