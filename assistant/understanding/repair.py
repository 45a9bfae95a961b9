"""Repair before the model: a near-miss of the sentence templates, mapped onto one of them.

A small speech recogniser mishears ("turn of the kitchen lite", "sent the blinds to 30%") and
people say things their own way ("kill the lamp", "I need coffee, start the coffee machine").
:class:`TemplateRepair` turns such a command into a sentence the templates match, with a
confidence, in milliseconds and without a model:

1. everyday verbs become the templates' own ("kill" → "turn off"), polite words go, and a lead-in
   clause before a comma may be dropped;
2. device and area names are found fuzzily (word spans against every name and alias, rapidfuzz
   ratio) and stand in as ``{name}`` and ``{area}``, numbers as ``{n}``;
3. that skeleton is compared with the templates' own sentences sampled with the same
   placeholders (rapidfuzz's indel distance), and the closest ones are filled with the names and
   numbers found and handed to the strict template matcher, which has the last word.

Only a decisive repair acts: similar enough, and clearly closer to one intent than to any other
(an "of" between "off" and "on" is one letter closer to "off"). What the repair makes of a
command is a route like any other, so a sensitive action still asks for a spoken yes.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from .repair_words import (
    FUNCTION_WORDS,
    GENERIC_DEVICES,
    PARTICLES,
    POLAR_WORDS,
    POLITE,
    SCOPE_WORDS,
    SYNONYMS,
    VERBS,
    negated,
    normalise,
)

__all__ = ["MIN_CONFIDENCE", "Repair", "TemplateRepair", "sentence_skeletons"]

MIN_CONFIDENCE: Final = 0.8  # below this a repair is not acted on
NAME_CUTOFF: Final = 80.0  # rapidfuzz ratio (0-100) a word span needs to stand for a name
SKELETON_CUTOFF: Final = 78.0  # ratio a command's skeleton needs to a template sentence's
_SAMPLES_PER_TEMPLATE: Final = 1000  # sampled sentences kept per template
_HITS: Final = 12  # closest template sentences tried against the strict matcher
_MAX_NAME_WORDS: Final = 5
_LEAD_IN_FACTOR: Final = 0.97  # a dropped lead-in clause costs a little confidence
_SYNONYM_FACTOR: Final = 0.97  # so does each everyday verb replaced

SLOTS: Final = ("name", "area", "floor")
_NUMBER: Final = "{n}"

_CLAUSE: Final = re.compile(r"[,;:.!?]|\b(?:and then|so|then|because)\b")
_PLACEHOLDER: Final = re.compile(r"\{[a-z_]+\}")
_MASK: Final = "\x00"  # a name's words stand as one token while everyday words are replaced
_QUESTION: Final = "HassGet"  # intents that ask about the home instead of changing it


@dataclass(frozen=True, slots=True)
class Repair:
    """A command repaired into a sentence the templates match: the sentence, a confidence from
    0 to 1, and what was changed ("lite → light")."""

    text: str
    confidence: float
    changes: tuple[str, ...]

    @property
    def confident(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE


@dataclass(frozen=True, slots=True)
class _Found:
    """A name or number found in a command: which placeholder it fills, its text as the
    templates know it, the words it replaced, and the ratio of the two (100 when exact)."""

    slot: str
    start: int
    end: int
    value: str
    said: str
    score: float


def _words(text: str) -> list[str]:
    return re.sub(r"[,;:.!?]+", " ", text).split()


def _replace_phrases(words: list[str], table: dict[str, str]) -> tuple[list[str], list[str]]:
    """Replace each phrase of ``table`` (whole words, longest first); returns the words and
    the changes made."""
    text = " " + " ".join(words) + " "
    changes = []
    for phrase in sorted(table, key=len, reverse=True):
        if f" {phrase} " in text:
            text = text.replace(f" {phrase} ", f" {table[phrase]} ")
            changes.append(f"{phrase} → {table[phrase]}")
    return text.split(), changes


def _drop_polite(words: list[str]) -> list[str]:
    text = " " + " ".join(words) + " "
    for phrase in POLITE:
        text = text.replace(f" {phrase} ", " ")
    return text.split()


def _spoken_variants(text: str) -> Iterator[tuple[list[str], float, list[str]]]:
    """The command as said, and without a lead-in clause ("I need coffee, start …"): its words,
    a confidence factor and the changes made. Nothing is dropped that holds a negation."""
    yield _words(text), 1.0, []
    for mark in _CLAUSE.finditer(text):
        head, tail = text[: mark.start()], text[mark.end() :]
        if not _words(tail) or negated(_words(head)):
            continue
        yield _words(tail), _LEAD_IN_FACTOR, [f"dropped {head.strip()!r}"]


def sentence_skeletons(
    intents: Any, language: str, keep: Callable[[str], bool]
) -> dict[str, list[str]]:
    """The sentences of each wanted intent, sampled from hassil's templates with the name, area
    and floor lists as ``{name}``, ``{area}``, ``{floor}`` and every number range as ``{n}``;
    templates with free text (wildcards) are left out. At most a few hundred per template."""
    from hassil.errors import HassilError
    from hassil.intents import TextSlotList, WildcardSlotList
    from hassil.sample import sample_expression

    lists: dict[str, Any] = dict(intents.slot_lists)
    for slot in SLOTS:
        lists[slot] = TextSlotList.from_strings([f"{{{slot}}}"], allow_template=False)
    wildcards = {n for n, v in lists.items() if isinstance(v, WildcardSlotList)}
    out: dict[str, list[str]] = defaultdict(list)
    for name, intent in intents.intents.items():
        if not keep(name):
            continue
        for data in intent.data:
            for sentence in data.sentences:
                samples = sample_expression(
                    sentence.expression,
                    slot_lists=lists,
                    expansion_rules=intents.expansion_rules,
                    language=language,
                    expand_ranges=False,
                )
                try:
                    for sample in itertools.islice(samples, _SAMPLES_PER_TEMPLATE):
                        skeleton = _skeleton_text(sample, wildcards)
                        if skeleton is not None:
                            out[name].append(skeleton)
                except HassilError:  # a list only Hearth fills at run time (profile names)
                    continue
    return {name: sorted(set(found)) for name, found in out.items()}


def _skeleton_text(sample: str, wildcards: set[str]) -> str | None:
    text = sample.lower()
    for ref in _PLACEHOLDER.findall(text):
        slot = ref[1:-1]
        if slot in wildcards:
            return None
        if slot not in SLOTS:
            text = text.replace(ref, _NUMBER)
    text = re.sub(r"(\{n\})\s*(?:%|percent\b)", r"\1%", text)
    text = re.sub(r"[^a-z0-9%'{} ]+", " ", text)
    text = re.sub(r"\b(?:my|our|your)\b", "the", text)
    return " ".join(text.split()) or None


class TemplateRepair:
    """Near-misses of the template sentences, repaired. :meth:`build` takes the sampled
    sentences once; :meth:`set_names` the spoken names of devices and areas whenever they
    change; :meth:`repair` then tries the closest sentences against ``strict`` (the template
    matcher: text in, a route or ``None`` out)."""

    def __init__(self) -> None:
        # placeholder signature -> (skeleton, intent) rows, so only like is compared with like
        self._by_signature: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._names: dict[str, list[tuple[str, str]]] = {"name": [], "area": []}
        self._choices: dict[str, list[str]] = {"name": [], "area": []}
        self._verbs: frozenset[str] = VERBS

    def build(self, skeletons: dict[str, list[str]]) -> None:
        rows: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        for intent, sentences in skeletons.items():
            for skeleton in sentences:
                rows[_signature(skeleton)].append((skeleton, intent))
        self._by_signature = dict(rows)
        self._verbs = VERBS

    def names_a_known_one(self, text: str) -> bool:
        """Whether ``text`` holds (near enough) the name of a known device or area."""
        return any(f.slot != "n" for f in self._find_slots(_words(normalise(text))))

    def commands(self, text: str) -> bool:
        """Whether ``text`` says what to do: a verb ("turn", "set", "open") or "on"/"off"."""
        return bool(set(_words(normalise(text))) & (self._verbs | {"on", "off"}))

    def command_words(self, text: str) -> bool:
        """Whether ``text`` holds a word that starts a command ("turn", "set") or joins one
        ("on", "in", "to"): then it is not a device's name."""
        words = set(_words(normalise(text)))
        if not words or words <= GENERIC_DEVICES | FUNCTION_WORDS:
            return True
        return bool(words & (self._verbs | FUNCTION_WORDS - {"the"}))

    @property
    def sentences(self) -> int:
        return sum(len(rows) for rows in self._by_signature.values())

    def set_names(self, names: Iterable[str], areas: Iterable[str]) -> None:
        """The names (and aliases) and area names people may say, as written."""
        for slot, spoken in (("name", names), ("area", areas)):
            unique = {normalise(n): n for n in spoken if normalise(n)}
            self._names[slot] = sorted(unique.items())
            self._choices[slot] = [key for key, _ in self._names[slot]]

    def repair(self, text: str, strict: Callable[[str], Any]) -> tuple[Repair, Any] | None:
        """The best decisive repair of ``text`` that ``strict`` accepts, with its route; or
        ``None``. A repair below :data:`MIN_CONFIDENCE` is returned too (the caller does not act
        on it but may say what it would have been)."""
        said = normalise(text)
        if negated(_words(said)):
            return None  # "don't unlock the front door" is not a command to repair
        best: tuple[Repair, Any] | None = None
        for words, factor, changes in _spoken_variants(said):
            found = self._attempt(words, factor, changes, strict)
            if found is not None and (best is None or found[0].confidence > best[0].confidence):
                best = found
        return best

    # -- the steps ------------------------------------------------------------------------

    def _attempt(
        self, words: list[str], factor: float, changes: list[str], strict: Callable[[str], Any]
    ) -> tuple[Repair, Any] | None:
        from rapidfuzz import process
        from rapidfuzz.distance import Indel

        words, found, swapped = self._everyday_words(_drop_polite(words))
        factor *= _SYNONYM_FACTOR ** len(swapped)
        skeleton = _fill_skeleton(words, found)
        rows = self._by_signature.get(_signature(skeleton), [])
        if not rows:
            return None
        hits = process.extract(
            skeleton,
            [row[0] for row in rows],
            scorer=Indel.normalized_similarity,
            limit=_HITS,
            score_cutoff=SKELETON_CUTOFF / 100,
        )
        if not hits:
            return None
        names_score = min((f.score for f in found), default=100.0) / 100
        renamed = tuple(
            f"{f.said} → {f.value}" for f in found if f.slot != "n" and f.said != normalise(f.value)
        )
        chosen: tuple[Repair, Any] | None = None
        chosen_distance = 0
        for sentence, similarity, _ in hits:
            distance = Indel.distance(skeleton, sentence)
            if chosen is not None and distance > chosen_distance:
                break  # decisive: nothing as close means anything else
            filled = _fill_sentence(sentence, found)
            if filled is None or not _same_meaning(skeleton.split(), sentence.split()):
                continue
            route = strict(filled)
            if route is None or (_command(words) and route.intent.startswith(_QUESTION)):
                continue  # a command is not repaired into a question about a device
            if chosen is not None:
                if route.intent != chosen[1].intent or route.slots != chosen[1].slots:
                    return None  # as close to two different commands: not a repair
                continue
            confidence = round(similarity * names_score * factor, 3)
            chosen = Repair(filled or "", confidence, (*changes, *swapped, *renamed)), route
            chosen_distance = distance
        return chosen

    def _everyday_words(self, words: list[str]) -> tuple[list[str], list[_Found], list[str]]:
        """Everyday verbs as the templates' own, and a particle said after the object moved
        to its verb ("shut the fan off" → "turn the fan off"), never inside a device's or
        room's name ("Coffee Maker" keeps its "make", "Desk Lamp" its "lamp"); returns the
        words, the names and numbers found in them, and the changes made."""
        names = [f for f in self._find_slots(words) if f.slot != "n"]
        tokens: list[str] = []
        index = 0
        for key, name in enumerate(names):
            tokens.extend(words[index : name.start])
            tokens.append(f"{_MASK}{key}")
            index = name.end
        tokens.extend(words[index:])
        tokens, moved = _move_particle(tokens)
        tokens, swapped = _replace_phrases(tokens, SYNONYMS)
        out: list[str] = []
        for token in tokens:
            if token.startswith(_MASK):
                name = names[int(token[len(_MASK) :])]
                out.extend(words[name.start : name.end])
            else:
                out.append(token)
        return out, self._find_slots(out), [*moved, *swapped]

    def _find_slots(self, words: list[str]) -> list[_Found]:
        """Names and areas (best spans first, never overlapping) and numbers in ``words``."""
        from rapidfuzz import fuzz, process

        candidates: list[_Found] = []
        for slot in ("name", "area"):
            choices = self._choices[slot]
            if not choices:
                continue
            for start in range(len(words)):
                for end in range(start + 1, min(len(words), start + _MAX_NAME_WORDS) + 1):
                    if {words[start], words[end - 1]} & FUNCTION_WORDS:
                        continue
                    span = " ".join(words[start:end])
                    hit = process.extractOne(
                        span, choices, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF
                    )
                    if hit is not None:
                        value = self._names[slot][hit[2]][1]
                        candidates.append(_Found(slot, start, end, value, span, hit[1]))
        # the best and longest names first (closeness times length), a device before a room
        candidates.sort(key=lambda f: (-f.score * len(f.value), f.slot != "name"))
        taken: set[int] = set()
        found: list[_Found] = []
        for cand in candidates:
            covered = set(range(cand.start, cand.end))
            if not covered & taken:
                taken |= covered
                found.append(cand)
        for index, word in enumerate(words):
            number = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", word)
            if number and index not in taken:
                found.append(_Found("n", index, index + 1, number.group(1), word, 100.0))
        return sorted(found, key=lambda f: f.start)


def _move_particle(words: list[str]) -> tuple[list[str], list[str]]:
    """A verb whose particle ends the command ("power the fan down") as the templates' own
    verb with its particle ("turn the fan off")."""
    if len(words) < 3 or words[-1] not in PARTICLES:
        return words, []
    phrase = f"{words[0]} {words[-1]}"
    verb, _, particle = SYNONYMS.get(phrase, "").partition(" ")
    if verb != "turn" or not particle:
        return words, []
    return ["turn", *words[1:-1], particle], [f"{words[0]} … {words[-1]} → turn … {particle}"]


def _same_meaning(said: list[str], sentence: list[str]) -> bool:
    """Whether a template sentence keeps what the command said it does: every word of on or
    off, open or close, lock or unlock that was said, and no whole-home word that was not."""
    return POLAR_WORDS & set(said) <= set(sentence) and SCOPE_WORDS & set(sentence) <= set(said)


def _command(words: list[str]) -> bool:
    return bool(words) and words[0] in VERBS


def _signature(skeleton: str) -> tuple[str, ...]:
    return tuple(sorted(_PLACEHOLDER.findall(skeleton)))


def _fill_skeleton(words: list[str], found: list[_Found]) -> str:
    out: list[str] = []
    index = 0
    for item in found:
        out.extend(words[index : item.start])
        percent = "%" if item.slot == "n" and words[item.start].endswith("%") else ""
        out.append(f"{{{item.slot}}}{percent}")
        index = item.end
    out.extend(words[index:])
    return " ".join(out)


def _fill_sentence(skeleton: str, found: list[_Found]) -> str | None:
    """The template sentence with the names and numbers found, each kind in the order said."""
    queues: dict[str, list[str]] = defaultdict(list)
    for item in found:
        queues[item.slot].append(item.value)
    out = skeleton
    for ref in _PLACEHOLDER.findall(skeleton):
        queue = queues[ref[1:-1]]
        if not queue:
            return None
        out = out.replace(ref, queue.pop(0), 1)
    return out
