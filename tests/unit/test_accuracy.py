"""Router accuracy on the table of tests/support/router_table.py: layer 1 (sentence templates)
alone. Layers 1+2 with the language model are measured by `scripts/router_accuracy.py`."""

from __future__ import annotations

from router_table import ENTITIES, TABLE, matches

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus
from assistant.home.actions import MemoryPublisher


def test_table_has_sixty_phrasings() -> None:
    assert len(TABLE) >= 60


def test_templates_are_right_or_silent() -> None:
    """A template either understands a phrasing correctly or does not match at all: it never
    turns one command into another. At least three in four phrasings are understood."""
    config = Config.model_validate({"entities": ENTITIES, "llm": {"enabled": False}})
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    router = hearth.router
    right, wrong, missed = [], [], []
    for text, intent, slots in TABLE:
        result = router.match(text)
        if result is None:
            missed.append(text)
        elif matches(result, intent, slots):
            right.append(text)
        else:
            wrong.append((text, result.intent, result.slots))
    assert wrong == []
    assert len(right) / len(TABLE) >= 0.75, missed
