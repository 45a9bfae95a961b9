"""Which devices a command is about, and the tool prompt that lists them within its budget."""

from __future__ import annotations

from assistant.home.discovery import Discovered, parse_discovery
from assistant.home.entities import Entity, EntityRegistry
from assistant.tools.generated_home import generate_home
from assistant.turn.skills import load_builtin_skills
from assistant.understanding.language_model import token_counter
from assistant.understanding.prompt_budget import MOST_DEVICES, PromptBudget
from assistant.understanding.relevance import content_words, rank_devices
from assistant.understanding.tool_catalog import ToolCatalog

TOOLS = [tool for skill in load_builtin_skills() for tool in getattr(skill, "tools", ())]


def entities(count: int) -> list[Entity]:
    found = []
    for device in generate_home(count):
        result = parse_discovery(device.topic, device.payload.encode())
        assert isinstance(result, Discovered)
        found.append(result.entity)
    return found


def test_content_words_keep_numbers_and_drop_plurals() -> None:
    assert content_words("Close the Office 17 Blinds, please") == {"close", "office", "17", "blind"}


def test_the_named_device_ranks_first_among_namesakes() -> None:
    home = entities(2000)
    ranked = rank_devices(home, "close the Office 17 Blinds")
    assert ranked[0].name == "Office 17 Blinds"
    assert all(e.name.startswith("Office") for e in ranked[:8])  # then its room, other blinds
    assert {"Office 17 Light", "Office 2 Blinds"} <= {e.name for e in ranked[:12]}


def test_a_misheard_word_still_points_at_the_device() -> None:
    ranked = rank_devices(entities(200), "switch on the kitchen lite")
    assert ranked[0].name in {"Kitchen Light", "Kitchen Lamp"}
    assert "Kitchen Light" in [e.name for e in ranked[:3]]


def test_room_and_recent_use_count_when_nothing_is_named() -> None:
    home = entities(200)
    here = [e for e in home if e.area == "study"]
    assert {e.entity_id for e in rank_devices(home, "turn it up", area="study")} == {
        e.entity_id for e in here
    }
    recent = [home[40].entity_id, home[3].entity_id]
    assert [e.entity_id for e in rank_devices(home, "do it again", recent=recent)] == recent[::-1]
    assert rank_devices(home, "tell me a joke") == []


def test_a_small_home_keeps_its_whole_stable_prompt() -> None:
    registry = EntityRegistry(entities(10))
    whole = ToolCatalog.build(TOOLS, registry)
    budget = PromptBudget(1400, 2048, token_counter(None))
    assert budget.choose(whole, TOOLS, "close the Kitchen Blinds") is whole
    assert budget.choose(whole, TOOLS, "tell me a joke") is whole


def test_a_big_home_gets_the_relevant_devices_within_the_budget() -> None:
    count = token_counter(None)
    whole = ToolCatalog.build(TOOLS, EntityRegistry(entities(2000)))
    budget = PromptBudget(1400, 2048, count)
    assert budget.tokens(whole) > 10 * budget.budget_tokens
    chosen = budget.choose(whole, TOOLS, "close the Office 17 Blinds")
    assert chosen.tools_text() == whole.tools_text()  # the same cached beginning
    assert "cover.office_17_blinds" in {e.entity_id for e in chosen.devices}
    assert 0 < len(chosen.devices) <= MOST_DEVICES
    assert budget.tokens(chosen) <= budget.budget_tokens
    assert budget.choose(whole, TOOLS, "tell me a joke").devices == ()
    small_window = PromptBudget(1400, 1024, count)
    assert small_window.budget_tokens == 1024 - 512
