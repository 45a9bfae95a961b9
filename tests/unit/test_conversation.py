"""Confirmation before sensitive actions, profiles, and your own skills and sentences, through
the answering layer with the real sentence templates (no audio models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import Event, EventBus
from assistant.home.actions import MemoryPublisher
from assistant.turn.answer import Answerer

ENTITIES = [
    {
        "domain": "lock",
        "name": "Front Door",
        "unique_id": "front_door",
        "command_topic": "z2m/front_door/set",
        "suggested_area": "Hall",
    },
    {
        "domain": "cover",
        "name": "Garage Door",
        "unique_id": "garage",
        "device_class": "garage",
        "command_topic": "garage/set",
        "suggested_area": "Garage",
    },
    {
        "domain": "light",
        "name": "Kitchen Light",
        "unique_id": "kitchen_light",
        "schema": "json",
        "command_topic": "z2m/kitchen_light/set",
        "suggested_area": "Kitchen",
    },
]


def responder(**extra: Any) -> tuple[Answerer, MemoryPublisher, list[Event]]:
    config = Config.model_validate({"entities": ENTITIES, "llm": {"enabled": False}, **extra})
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    publisher = MemoryPublisher()
    hearth = assemble(config, bus=bus, publisher=publisher, listen=False, speak=False)
    return hearth.answerer(), publisher, events


def test_unlock_waits_for_a_yes_and_a_typed_yes_is_not_one() -> None:
    """A confirmation is accepted only from speech heard in the turn that asked: ``hearth ask``
    and ``cmd/ask`` text never confirms, it only ends the question."""
    hearth, published, _ = responder()
    assert (
        hearth.run_text("unlock the front door").reply == "Do you want me to unlock the Front Door?"
    )
    assert published.messages == []
    assert hearth.conversation.expecting_reply
    assert hearth.run_text("yes").reply == "Sorry, I didn't understand."  # typed: a new command
    assert published.messages == []
    assert hearth.conversation.pending is None  # and the question is over
    assert hearth.run_text("yes").reply == "Sorry, I didn't understand."
    assert published.messages == []


def spoken_answer(hearth: Answerer, text: str) -> str:
    """The reply to ``text`` heard in the follow-up turn that a question opened."""
    record = hearth.new_turn(spoken=True)
    record.answers = True
    with hearth.turn(record):
        hearth.answer(record, text)
    return record.reply


def test_a_spoken_yes_in_the_follow_up_acts_and_a_no_does_not() -> None:
    hearth, published, _ = responder()
    hearth.run_text("unlock the front door")
    assert spoken_answer(hearth, "Yes.") == "Unlocked the Front Door."
    assert [(m.topic, m.payload) for m in published.messages] == [("z2m/front_door/set", "UNLOCK")]
    hearth.run_text("unlock the front door")
    assert spoken_answer(hearth, "no thanks") == "Okay, I won't."
    assert len(published.messages) == 1


@pytest.mark.parametrize("answer", ["yes, and also unlock the back door", "maybe", "what?", ""])
def test_only_a_clear_yes_counts(answer: str) -> None:
    hearth, published, _ = responder()
    hearth.run_text("open the garage door")
    spoken_answer(hearth, answer)
    assert published.messages == []


def test_a_late_yes_does_nothing_and_a_late_command_is_a_command() -> None:
    hearth, published, _ = responder(conversation={"confirm_timeout_s": 8})
    hearth.run_text("unlock the front door")
    clock = hearth.conversation.clock
    hearth.conversation.clock = lambda: clock() + 9
    assert "too late" in spoken_answer(hearth, "yes")
    assert published.messages == []
    hearth.conversation.clock = clock
    hearth.run_text("unlock the front door")
    hearth.conversation.clock = lambda: clock() + 40
    # 40 s later the question is over: the next thing said is a new command, and it acts
    assert spoken_answer(hearth, "turn on the kitchen light") == "Turned on the Kitchen Light."
    assert [m.payload for m in published.messages] == ['{"state":"ON"}']


def test_a_profile_switch_ends_a_pending_confirmation() -> None:
    hearth, published, _ = responder(
        profiles={"kids": {"description": "For children.", "skills": ["clock"]}}
    )
    hearth.run_text("unlock the front door")
    assert hearth.switch_profile("kids")
    assert spoken_answer(hearth, "yes") != "Unlocked the Front Door."
    assert published.messages == []


def test_safe_actions_need_no_confirmation() -> None:
    hearth, published, _ = responder()
    assert hearth.run_text("lock the front door").reply == "Locked the Front Door."
    assert hearth.run_text("close the garage door").reply == "Closed the Garage Door."
    assert [m.payload for m in published.messages] == ["LOCK", "CLOSE"]


def test_profiles_switch_by_voice_and_limit_skills() -> None:
    hearth, published, events = responder(
        profiles={
            "homework_helper": {
                "description": "A patient helper for children's homework.",
                "system_prompt": "Explain step by step for a ten-year-old.",
                "skills": ["clock"],
            }
        }
    )
    assert hearth.run_text("switch to homework helper mode").reply == (
        "Switched to homework helper."
    )
    assert hearth.profiles.active == "homework_helper"
    assert "ten-year-old" in hearth.profiles.system_prompt()
    assert hearth.run_text("turn on the kitchen light").reply == "I can't do that in this mode."
    assert published.messages == []
    assert hearth.run_text("what time is it").reply.startswith("It's")
    assert hearth.run_text("switch back to normal mode").reply == "Back to normal mode."
    assert hearth.run_text("turn on the kitchen light").reply == "Turned on the Kitchen Light."
    assert [e.type for e in events].count("profile") == 2


def test_your_own_skill_and_sentences(tmp_path: Path) -> None:
    skills_dir = tmp_path / "skills"
    skills_dir.mkdir()
    (skills_dir / "plants.py").write_text(
        '"""Water the plants."""\n'
        "from assistant.skill import Risk, SkillResult\n\n\n"
        "class PlantSkill:\n"
        '    name = "plants"\n'
        '    description = "Tell you when the plants were last watered."\n'
        '    intents = ("PlantsLastWatered",)\n'
        "    risk = Risk.SAFE\n"
        "    tools = ()\n\n"
        "    def run(self, call, context):\n"
        '        return SkillResult("The plants were watered yesterday.")\n\n\n'
        "SKILLS = (PlantSkill(),)\n"
    )
    sentences = tmp_path / "sentences"
    sentences.mkdir()
    (sentences / "plants.yaml").write_text(
        "language: en\nintents:\n  PlantsLastWatered:\n    data:\n"
        "      - sentences:\n          - when were the plants [last] watered\n"
    )
    hearth, _, _ = responder(
        router={"skills_dir": str(skills_dir), "sentences_dir": str(sentences)}
    )
    assert hearth.run_text("when were the plants last watered").reply == (
        "The plants were watered yesterday."
    )


def test_a_broken_user_skill_is_one_clear_error(tmp_path: Path) -> None:
    from assistant.errors import ConfigError

    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(ConfigError, match=r"broken\.py: cannot load this skill"):
        responder(router={"skills_dir": str(tmp_path)})


def test_grounding_of_a_model_call() -> None:
    from assistant.home.entities import EntityRegistry
    from assistant.understanding.grounding import grounded

    registry = EntityRegistry.from_config(Config.model_validate({"entities": ENTITIES}).entities)
    light = "light.kitchen_light"
    assert grounded({"name": light}, "please switch on the kitchen light", registry)
    assert not grounded({"name": light}, "switch it on", registry)
    assert grounded({"name": light, "brightness": 40}, "kitchen light to forty", registry)
    assert grounded({"name": light, "brightness": 40}, "kitchen light 40%", registry)
    assert not grounded({"name": light, "brightness": 50}, "dim the kitchen light", registry)
    assert grounded({}, "what time is it", registry, "HassGetCurrentTime Say the time now.")
    assert not grounded({}, "paint the moon purple", registry, "HassGetCurrentTime Say the time")
