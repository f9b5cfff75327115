"""Check-in answers typed as plain text: ``filled 412, backlog 35``.

The parser only pairs numbers with metrics; the numbers stay as typed and are validated
later with ``bot.parsing.parse_number``.  It never guesses: a fragment that fits several
metrics, or none, becomes a problem and a question back to the person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.parsing import parse_number, quote

__all__ = ["AnswerParse", "MetricLabel", "parse_answer"]


@dataclass(frozen=True)
class MetricLabel:
    key: str
    name: str


@dataclass(frozen=True)
class AnswerParse:
    # Metric key → the number as typed ("1,234", "85%").
    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # What to ask the person when a fragment was ambiguous, unknown or had no number.
    question: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# A comma between two digits belongs to a number ("1,234"; "12,5" is refused later by
# parse_number); a period ends a sentence only when followed by a space or the end.
_SPLIT = re.compile(r"[;\n\r]+|(?<![0-9]),|,(?![0-9])|\.(?=\s|$)", re.ASCII)
_AND = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)
# Not preceded by a letter or digit, so "Q3" or "covid19" are words, not numbers.  Regular
# spaces never group thousands here: "filled 100 200" must not become 100200.
_NUMBER = re.compile(
    r"(?<![^\W_])"
    r"(?:[-+\u2212](?=[$0-9.]))?\$?"
    r"(?:[0-9]+(?:,[0-9]+)*(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?:[\u00a0\u202f\u2009][0-9]{3}(?![0-9]))*"
    r"(?:[kK](?![^\W_]))?"
    r"(?:\s?%|\$)?"
)
_WORD = re.compile(r"[^\W_]+")
_KEY_PARTS = re.compile(r"[^a-z0-9]+")
# Words people put around a number that name no metric ("we filled 412 this week").
_FILLER = frozenset({
    "a", "an", "the", "is", "was", "were", "are", "of", "this", "last", "week", "weeks",
    "total", "we", "i", "our", "my", "it", "its", "s", "there", "had", "have", "has", "got",
    "number", "no", "nr", "at", "to", "for", "in", "on", "with", "so", "far", "about",
    "around", "approx",
})  # fmt: skip


def parse_answer(text: str, metrics: Sequence[MetricLabel]) -> AnswerParse:
    """Pair each number in ``text`` with one of ``metrics``; see the module docstring."""
    if not re.search(r"[0-9]", text, re.ASCII):
        return AnswerParse(
            problems=[f"I found no numbers in your answer; write them like {_example(metrics)}"]
        )
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    questions: list[str] = []
    for fragment in _fragments(text):
        _read_fragment(fragment, metrics, found, problems, questions)

    values: dict[str, str] = {}
    by_key = {metric.key: metric for metric in metrics}
    for key, raws in found.items():
        distinct = _distinct(raws)
        if len(distinct) == 1:
            values[key] = distinct[0]
            continue
        name = by_key[key].name
        problems.append(f"{name} was given more than once ({' and '.join(distinct)})")
        questions.append(f"Which is right for {name}: {_or(distinct)}?")
    return AnswerParse(values=values, problems=problems, question=" ".join(questions) if questions else None)


def _fragments(text: str) -> list[str]:
    fragments: list[str] = []
    for piece in _SPLIT.split(text):
        parts = _AND.split(piece)
        # "Calls answered and closed 40" is one metric name, not two fragments.
        if len(parts) > 1 and all(re.search(r"[0-9]", part, re.ASCII) for part in parts):
            fragments.extend(parts)
        else:
            fragments.append(piece)
    return [fragment.strip() for fragment in fragments if fragment.strip()]


def _read_fragment(
    fragment: str,
    metrics: Sequence[MetricLabel],
    found: dict[str, list[str]],
    problems: list[str],
    questions: list[str],
) -> None:
    named, rest = _literal_name(fragment, metrics)
    numbers = list(_NUMBER.finditer(rest))
    words = _content_words(_NUMBER.sub(" ", rest), metrics)
    if len(numbers) > 1:
        problems.append(
            f"{quote(fragment)} has more than one number; write one number per metric, "
            f"e.g. {_example(metrics)}"
        )
        questions.append(f"What did you mean by {quote(fragment)}?")
        return
    if named is not None:
        candidates = [named] if not words else []
    elif words:
        candidates = _candidates(words, metrics)
    elif len(metrics) == 1:
        candidates = [metrics[0]]
    else:
        candidates = list(metrics)

    if not numbers:
        label = candidates[0].name if len(candidates) == 1 else None
        problems.append(f"No number for {quote(fragment)}")
        questions.append(
            f"What is the number for {label}?" if label else f"What number goes with {quote(fragment)}?"
        )
        return
    raw = numbers[0].group().strip()
    if len(candidates) == 1:
        found.setdefault(candidates[0].key, []).append(raw)
        return
    if candidates and (words or named is not None):
        sentence = (
            f"Which metric is {quote(fragment)}? It could be {_or([metric.name for metric in candidates])}."
        )
    elif candidates:
        sentence = f"Which metric is {quote(fragment)}? This unit reports: {_names(metrics)}."
    else:
        typed = " ".join(_WORD.findall(_NUMBER.sub(" ", rest))) or fragment
        reports = f"this unit reports: {_names(metrics)}" if metrics else "this unit reports no metrics"
        sentence = f"I don't know a metric called {quote(typed)}; {reports}."
    problems.append(sentence)
    questions.append(sentence)


def _digit_phrases(metric: MetricLabel) -> list[str]:
    """Ways to write a metric whose name has digits in it: the full name, the key, and any
    run of two or more of its words that includes the digits ("within 48 hours")."""
    words = metric.name.lower().split()
    phrases = [" ".join(words), metric.key.lower(), metric.key.lower().replace("_", " ")]
    for start in range(len(words)):
        for end in range(start + 2, len(words) + 1):
            run = words[start:end]
            if any(re.search(r"[0-9]", w, re.ASCII) for w in run):
                phrases.append(" ".join(run))
    return [p for p in dict.fromkeys(phrases) if re.search(r"[0-9]", p, re.ASCII)]


def _literal_name(fragment: str, metrics: Sequence[MetricLabel]) -> tuple[MetricLabel | None, str]:
    """A metric whose name (or key) has digits, written out ("Calls to 311 40",
    "within 48 hours 92", "missed_pickups_48h 92"): its digits are not a value."""
    lowered = " ".join(fragment.lower().split())
    best: tuple[MetricLabel, re.Match[str]] | None = None
    tied = False
    for metric in metrics:
        for phrase in _digit_phrases(metric):
            match = re.search(rf"(?<![^\W_]){re.escape(phrase)}(?![^\W_])", lowered)
            if match is None:
                continue
            if best is None or len(phrase) > len(best[1].group()):
                best, tied = (metric, match), False
            elif len(phrase) == len(best[1].group()) and best[0] is not metric:
                tied = True
    if best is None or tied:
        return None, fragment
    match = best[1]
    return best[0], lowered[: match.start()] + " " + lowered[match.end() :]


def _content_words(text: str, metrics: Sequence[MetricLabel]) -> list[str]:
    name_words = {word for metric in metrics for word in _name_words(metric)}
    return [
        word
        for word in (word.lower() for word in _WORD.findall(text))
        if word not in _FILLER or word in name_words
    ]


def _name_words(metric: MetricLabel) -> list[str]:
    return [word.lower() for word in _WORD.findall(metric.name)]


def _key_parts(metric: MetricLabel) -> list[str]:
    return [part for part in _KEY_PARTS.split(metric.key.lower()) if part]


def _candidates(words: list[str], metrics: Sequence[MetricLabel]) -> list[MetricLabel]:
    phrase = " ".join(words)
    for exact in (
        [m for m in metrics if " ".join(_key_parts(m)) == phrase or m.key.lower() == phrase],
        [m for m in metrics if " ".join(_name_words(m)) == phrase],
    ):
        if exact:
            return exact
    return [
        metric
        for metric in metrics
        if all(_word_fits(word, _name_words(metric) + _key_parts(metric)) for word in words)
    ]


def _word_fits(word: str, targets: list[str]) -> bool:
    for target in targets:
        if word == target or (len(word) >= 3 and target.startswith(word)):
            return True
        # Plurals both ways: "pothole" / "potholes", "backlogs" / "backlog".
        if len(word) >= 3 and (word == target + "s" or word == target + "es"):
            return True
    return False


def _distinct(raws: list[str]) -> list[str]:
    """The values that differ: "1,234" and "1234" are the same number."""
    seen: dict[object, str] = {}
    for raw in raws:
        try:
            identity: object = parse_number(raw)
        except ValueError:
            identity = raw
        seen.setdefault(identity, raw)
    return list(seen.values())


def _names(metrics: Sequence[MetricLabel]) -> str:
    return ", ".join(metric.name for metric in metrics)


def _or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _example(metrics: Sequence[MetricLabel]) -> str:
    names = [metric.name.lower() for metric in metrics[:2]] or ["filled", "backlog"]
    shown = [f"{name} {number}" for name, number in zip(names, (412, 35), strict=False)]
    return quote(", ".join(shown)) if len(", ".join(shown)) < 40 else f'"{shown[0]}"'
