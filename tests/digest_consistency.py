"""The digest's one-moment rule as a checker: every section of a digest describes the
same moment, so no two sections disagree.  Used by the property test over simulated
weeks (tests/test_digest_consistency.py) and over the demo's database (test_demo.py)."""

from __future__ import annotations

from collections import Counter

from bot.digests.builder import MAX_EXCEPTIONS
from bot.digests.cards import summary_card
from bot.digests.models import Digest, EscalationFacts
from bot.messages.model import Facts


def _facts(digest: Digest) -> dict[str, str]:
    card = summary_card(digest)
    return {f.label: f.value for part in card.parts if isinstance(part, Facts) for f in part.facts}


def contradictions(digest: Digest) -> list[str]:
    """What two sections of ``digest`` disagree about (empty when nothing)."""
    found: list[str] = []
    states = Counter(r.unit_key for r in digest.reporting)
    found += [f"{unit} is listed {n} times under Who reported" for unit, n in states.items() if n > 1]
    state_of = {r.unit_key: r.state for r in digest.reporting}
    for unit in digest.scorecard:
        if unit.unit_key in state_of and state_of[unit.unit_key] != unit.reported:
            found.append(
                f"{unit.unit_key}: scorecard says {unit.reported}, Who reported says {state_of[unit.unit_key]}"
            )
    for entry in digest.reporting:
        if entry.state in ("on_time", "late") and entry.submitted_at is None:
            found.append(f"{entry.unit_key}: submitted, but no time of submission")
        if entry.escalation_id is not None and entry.state != "missing":
            found.append(f"{entry.unit_key}: {entry.state}, yet its missed check-in is escalating")
    settled = {p.commitment_id: p.outcome for p in digest.promises if p.outcome != "not_kept"}
    about = Counter(e.commitment_id for e in digest.exceptions if e.commitment_id is not None)
    found += [f"commitment #{c} is listed {n} times" for c, n in about.items() if n > 1]
    for item in digest.exceptions:
        if item.commitment_id in settled:
            found.append(
                f"{item.kind} on #{item.commitment_id}, which Promised vs delivered says was "
                f"{settled[item.commitment_id]}"
            )
        facts = item.facts
        if isinstance(facts, EscalationFacts):
            if facts.messages_sent == 0 and facts.snoozed_until is None:
                found.append(f"escalation {item.escalation_id} sent no message, yet is for decision")
            if facts.about == "missed_checkin" and facts.week == digest.week:
                found.append(
                    f"{item.unit_key}: its missed check-in is both an escalation item and under Who reported "
                    f"({state_of.get(item.unit_key, 'not listed')})"
                )
    # The header counts what the sections list.
    facts = _facts(digest)
    reported = Counter(r.state for r in digest.reporting)
    if digest.nothing_due is None:
        expected = (
            f"{reported['on_time']} on time, {reported['late']} late, "
            f"{reported['missing']} not submitted, {reported['excused']} excused"
        )
        if facts.get("Check-ins") != expected:
            found.append(f"header says check-ins {facts.get('Check-ins')!r}, Who reported lists {expected!r}")
    elif any(r.state != "excused" for r in digest.reporting):
        found.append("the header says nothing was due, yet some check-in was")
    if digest.total_exceptions <= MAX_EXCEPTIONS:
        listed = Counter(e.kind for e in digest.exceptions)
        for kind in listed.keys() | {k for kinds in digest.exception_counts.values() for k in kinds}:
            if digest.count(kind) != listed[kind]:  # type: ignore[arg-type]
                found.append(f"header counts {digest.count(kind)} {kind}, the digest lists {listed[kind]}")  # type: ignore[arg-type]
        if facts.get("Escalations open") != str(listed["open_escalation"]):
            found.append(
                f"header says {facts.get('Escalations open')} escalations open, {listed['open_escalation']} listed"
            )
        if facts.get("Follow-ups unanswered") != str(listed["unanswered_followup"]):
            found.append("the header's unanswered follow-ups differ from those listed")
    return found
