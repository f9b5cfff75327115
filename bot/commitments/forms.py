"""The follow-up forms: a leader's question, and the head's answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.actions import Action
from bot.commitments.models import Commitment
from bot.messages import DateInput, Form, Text, TextInput, paragraph
from bot.messages.text import possessive
from bot.org.models import Metric, Unit

ASK_IDS = ("unit", "metric", "commitment", "escalation")


def metric_question(metric: Metric) -> str:
    return f"What is the plan to bring {metric.name} back on target?"


def commitment_question(commitment: Commitment) -> str:
    return f"Where does #{commitment.id} ({commitment.text[:80]}) stand, and what do you need?"


def ask_form(unit: Unit, ids: Mapping[str, str], suggestion: str, due: dt.date) -> Form:
    """The question form behind an "Ask about this" button."""
    return Form(
        action=Action.FOLLOWUP_ASK,
        ids={k: v for k, v in ids.items() if k in ASK_IDS},
        title=f"Ask {unit.name}"[:60],
        submit_label="Ask",
        intro=(paragraph(f"Your question goes to {possessive(unit.name)} head, who owes you an answer."),),
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
    )


def answer_form(followup: Commitment) -> Form:
    """The answer, and what it promises (optional): a promise with a date becomes a
    tracked commitment, owned by whoever answers."""
    return Form(
        action=Action.FOLLOWUP_ANSWER,
        ids={"commitment": str(followup.id)},
        title="Answer the question",
        submit_label="Send answer",
        intro=(paragraph(Text(text=followup.text, style="italic")),),
        inputs=(
            TextInput(name="answer", label="Your answer", multiline=True, max_length=3000),
            TextInput(
                name="promise",
                label="Does your answer promise something? (optional)",
                hint='What will be done, e.g. "Clear the missed-pickup backlog"',
                max_length=300,
                optional=True,
            ),
            DateInput(name="promise_due", label="Done by (with a promise)", optional=True),
        ),
    )
