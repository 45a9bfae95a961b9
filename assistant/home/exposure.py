"""``[expose]`` checked against the entities Hearth knows, so that an id that matches nothing is
said once, with the closest ids it does know, instead of quietly exposing nothing.

An entity answers to its own id (Home Assistant's) and to the other ids it is known by
(``Entity.other_ids``: the id under another Home Assistant version, or the one Hearth gave
before it named entities as Home Assistant does), so a list copied from Home Assistant and an
older Hearth configuration both work; an old id is pointed out at info level.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ..config import Config, ExposeConfig
from .entities import Entity

__all__ = ["ExposureNote", "check_config_exposure", "check_exposure"]

_LOGGER = logging.getLogger(__name__)
_CLOSEST: Final = 3


@dataclass(frozen=True, slots=True)
class ExposureNote:
    """One id in ``[expose]`` worth telling the user about."""

    level: int  # logging.WARNING: matches nothing; logging.INFO: an entity's other id
    message: str


def check_exposure(
    expose: ExposeConfig, known: Iterable[Entity], section: str = "expose"
) -> list[ExposureNote]:
    """A note for each id in ``[<section>] entities`` or ``exclude`` that matches no known
    entity (with the closest known ids) or only an entity's other id (with its id now)."""
    entities = list(known)
    own = {e.entity_id for e in entities}
    other = {i: e.entity_id for e in entities for i in e.other_ids if i not in own}
    notes: list[ExposureNote] = []
    for key in ("entities", "exclude"):
        for wanted in dict.fromkeys(getattr(expose, key)):
            where = f"[{section}] {key}: {wanted!r}"
            if wanted in own:
                continue
            if wanted in other:
                text = f"{where} is an older id of {other[wanted]}; both work"
                notes.append(ExposureNote(logging.INFO, text))
                continue
            close = difflib.get_close_matches(wanted, sorted(own | set(other)), _CLOSEST, 0.6)
            hint = f"; closest known: {', '.join(close)}" if close else ""
            text = (
                f"{where} matches no device Hearth knows{hint} (use the entity id Home "
                "Assistant shows, or Hearth's id on hearth/<node_id>/action)"
            )
            notes.append(ExposureNote(logging.WARNING, text))
    return notes


def check_config_exposure(config: Config, known: Iterable[Entity]) -> list[ExposureNote]:
    """:func:`check_exposure` for ``[expose]`` and every profile's ``expose``, logged."""
    entities = list(known)
    notes = check_exposure(config.expose, entities)
    for name, profile in config.profiles.items():
        notes += check_exposure(profile.expose, entities, f"profiles.{name}.expose")
    for note in notes:
        _LOGGER.log(note.level, "%s", note.message)
    return notes
