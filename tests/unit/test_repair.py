"""The repair of template near-misses and the reply for an unknown device, on the typed tables
of tests/support/understanding_table.py, through a real answerer (templates only, no model)."""

from __future__ import annotations

from typing import Any

import pytest
from understanding_check import build, run, score
from understanding_table import HELD_OUT, HELD_OUT_2, KINDS, TUNING

from assistant.understanding.repair import MIN_CONFIDENCE, Repair, TemplateRepair
from assistant.understanding.templates import RouteResult


@pytest.fixture(scope="module")
def hearth() -> Any:
    return build()


def test_tables_cover_every_kind() -> None:
    for rows in (TUNING, HELD_OUT):
        assert {kind for kind, _, _ in rows} == set(KINDS)


def test_tuning_table(hearth: Any) -> None:
    """At least 90 % right, and every safety and unknown-device case right."""
    result = score(*hearth, TUNING)
    wrong = [(kind, text, o.reply) for kind, text, _, o in result.wrong]
    assert result.share >= 0.9, wrong
    assert result.all_right("safety") and result.all_right("unknown"), wrong


def test_held_out_table(hearth: Any) -> None:
    """Phrasings the repair was not tuned on: never an unasked sensitive action, never a
    guessed device, and most understood."""
    result = score(*hearth, HELD_OUT)
    wrong = [(kind, text, o.reply) for kind, text, _, o in result.wrong]
    assert result.all_right("safety") and result.all_right("unknown"), wrong
    assert result.share >= 0.8, wrong


def test_second_held_out_table(hearth: Any) -> None:
    """A second set written before the repair's code was read, never tuned on: every safety
    and unknown case right, and at least 90 % in all."""
    assert {kind for kind, _, _ in HELD_OUT_2} <= set(KINDS)
    result = score(*hearth, HELD_OUT_2)
    wrong = [(kind, text, o.reply) for kind, text, _, o in result.wrong]
    assert result.all_right("safety") and result.all_right("unknown"), wrong
    assert result.share >= 0.9, wrong


def test_a_repair_keeps_what_the_command_does(hearth: Any) -> None:
    """A repair never turns "on" into "off", nor a room the home lacks into the whole home."""
    templates = hearth[0].router.templates
    # the closest template sentence is "turn off the lights in the flat": all the home's lights
    assert templates.repaired("turn on the lights in the attic") is None
    assert templates.repaired("turn off the lights in the cellar") is None
    found = templates.repaired("power the ceiling fan down")
    assert found is not None and found[1].intent == "HassTurnOff"


def test_a_particle_after_the_object_and_a_number_in_words() -> None:
    from assistant.understanding.repair_words import negated, normalise

    assert normalise("Set it to twenty-five per cent") == "set it to 25%"
    assert normalise("a hundred percent") == "100%"
    assert not negated(["stop", "the", "fan"]) and negated(["stop", "unlocking", "the", "door"])


def test_a_repair_says_what_it_changed(hearth: Any) -> None:
    outcome = run(*hearth, "I need quiet, kill the ceiling fen")
    assert outcome.layer == "repair"
    found = hearth[0].router.templates.repaired("I need quiet, kill the ceiling fen")
    repair, route = found
    assert route.intent == "HassTurnOff" and route.slots["name"] == "fan.ceiling_fan"
    assert "kill → turn off" in repair.changes
    assert any(change.startswith("ceiling fen →") for change in repair.changes)
    assert outcome.sent == 1


def test_as_close_to_two_commands_is_not_repaired() -> None:
    """A word as close to one command as to another decides nothing; one letter closer does."""
    repair = TemplateRepair()
    repair.build({"On": ["turn on the {name}"], "In": ["turn in the {name}"]})
    repair.set_names(["Ceiling Fan"], [])

    def strict(text: str) -> Any:
        verb = text.split()[1]
        intent = {"on": "On", "in": "In"}[verb]
        return RouteResult(intent, {"name": "fan.ceiling_fan"}, {}, "template", text)

    assert repair.repair("turn n the ceiling fan", strict) is None  # one letter from each
    found = repair.repair("turn o the ceiling fan", strict)
    assert found is not None and found[1].intent == "On"


def test_an_unsure_repair_is_not_acted_on() -> None:
    assert not Repair("turn on the Kitchen Light", MIN_CONFIDENCE - 0.01, ()).confident
    assert Repair("turn on the Kitchen Light", MIN_CONFIDENCE, ()).confident


def test_a_known_device_is_never_called_unknown(hearth: Any) -> None:
    templates = hearth[0].router.templates
    assert templates.unknown_name("turn on the kitchen light") is None
    assert templates.unknown_name("turn on the lights in the kitchen") is None
    assert templates.unknown_name("turn on the bathroom heater") == ("name", "bathroom heater")
