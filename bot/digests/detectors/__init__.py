"""The exception detectors: one per kind, in a registry.

Each detector finds the items of its kind in the covered week; the builder ranks them.
``detect`` runs them all and joins an escalation to the item about its commitment when
that commitment is listed already (its Acknowledge button then stops the chain)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.digests.detectors import commitments, escalations, metrics
from bot.digests.detectors.base import Candidate, Detector
from bot.digests.models import KIND_ORDER, ExceptionKind
from bot.digests.scope import Observation, Scope

DETECTORS: dict[ExceptionKind, Detector] = {
    "off_target_streak": metrics.off_target_streak,
    "big_move": metrics.big_move,
    "confirmed_outlier": metrics.confirmed_outlier,
    "overdue_commitment": commitments.overdue_commitment,
    "quiet_commitment": commitments.quiet_commitment,
    "due_this_week": commitments.due_this_week,
    "unanswered_followup": commitments.unanswered_followup,
    "open_escalation": escalations.open_escalation,
}


def detect(scope: Scope, observations: Sequence[Observation]) -> list[Candidate]:
    found: list[Candidate] = []
    for kind in KIND_ORDER:
        found.extend(DETECTORS[kind](scope, observations))
    about: dict[int | None, Candidate] = {
        c.commitment_id: c for c in found if c.kind in commitments.KINDS and c.commitment_id is not None
    }
    out: list[Candidate] = []
    for candidate in found:
        listed = about.get(candidate.commitment_id) if candidate.kind == "open_escalation" else None
        if listed is not None and candidate.checkin_id is None:
            listed.escalation_id = candidate.escalation_id
            continue
        out.append(candidate)
    return out


__all__ = ["DETECTORS", "Candidate", "Detector", "detect"]
