"""Which devices a command is probably about, for prompts that must stay short in a big home.

The language model's tool prompt lists devices; in a home of 2,000 that list alone is some
24,000 tokens, far past the model's context window. :func:`rank_devices` orders the entities by
how likely the words said are about them: a word of the name (or an alias) said, a word of the
area said, a word close to a word of the name (rapidfuzz's ratio, for a mistranscribed
"kitchen lite"), the room this node is in, and recent use. Entities
nothing points at are left out. Pure, and fast: 2,000 entities take a few milliseconds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Final

from ..home.entities import Entity

__all__ = ["content_words", "rank_devices"]

_FILLER: Final = frozenset(
    {"the", "and", "all", "please", "turn", "set", "switch", "off", "what", "can", "you", "for"}
)
_NAME_WORD: Final = 3.0  # per word of the name said
_AREA_WORD: Final = 2.0  # per word of the area said
_FUZZY: Final = 2.0  # times a word's closeness to a word of the name (0..1), when close
_FUZZY_FROM: Final = 80.0  # rapidfuzz ratio (0..100) from which two words count as close
_HERE: Final = 1.0  # in this node's room
_RECENT: Final = 2.0  # used in the last turns (the latest counts most)


@functools.lru_cache(maxsize=16384)
def content_words(text: str) -> frozenset[str]:
    """Lower-case words that say which device: numbers, and words of three letters or more,
    without a plural ``s`` ("the Office 17 Blinds" → office, 17, blind)."""
    found = set()
    for word in re.findall(r"[^\W_]+", text.casefold()):
        if word.isdigit() or (len(word) >= 3 and word not in _FILLER):
            found.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return frozenset(found)


def rank_devices(
    entities: Iterable[Entity], text: str, *, area: str = "", recent: Sequence[str] = ()
) -> list[Entity]:
    """The entities something in ``text``, the room ``area`` (an area id) or the ``recent``
    entity ids (newest last) points at, most likely first; ties keep the entities' order."""
    from rapidfuzz import fuzz

    said = content_words(text)
    recency = {entity_id: i + 1 for i, entity_id in enumerate(recent)}
    scored: list[tuple[float, int, Entity]] = []
    for index, entity in enumerate(entities):
        names = (entity.name, *entity.aliases)
        name_words = frozenset().union(*(content_words(n) for n in names))
        score = _NAME_WORD * len(said & name_words)
        score += _AREA_WORD * len(said & content_words(entity.area_name))
        for word in said - name_words:  # a word said that is close to one of the name
            close = max((fuzz.ratio(word, other) for other in name_words), default=0.0)
            if close >= _FUZZY_FROM:
                score += _FUZZY * close / 100
        if area and entity.area == area:
            score += _HERE
        if entity.entity_id in recency:
            score += _RECENT * recency[entity.entity_id] / len(recency)
        if score > 0:
            scored.append((score, index, entity))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [entity for _, _, entity in scored]
