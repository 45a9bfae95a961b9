"""The real bundled language model (SmolLM2-135M, llama.cpp) in a home of 2,000 devices: every
prompt within the context window and the token budget, a free question answered aloud, and a
tool prompt that names the device the command is about."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from assistant.assemble import Hearth, assemble, make_home
from assistant.config import load_config
from assistant.events import Event, EventBus, ModelConsulted, TurnFailed
from assistant.home.actions import MemoryPublisher
from assistant.home.discovery import Discovered, parse_discovery
from assistant.tools.generated_home import generate_home
from assistant.understanding.tool_call import TOOL_PROMPT
from assistant.understanding.tool_catalog import ToolCall
from assistant.understanding.tool_parse import parse_tool_call

DEVICES = 2000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hearth, list[Event]]]:
    folder = tmp_path_factory.mktemp("big")
    path = folder / "config.toml"
    # a deadline no run reaches, even on a busy machine: these tests are about size, not speed
    path.write_text(
        f'[assistant]\nnode_id = "big"\ndata_dir = "{folder}"\n\n'
        "[llm]\ntimeout_s = 300\nthinking_cue_s = 0\n"
    )
    config = load_config(str(path))[0]
    home = make_home(config)
    for device in generate_home(DEVICES):
        result = parse_discovery(device.topic, device.payload.encode())
        assert isinstance(result, Discovered)
        home.discovered(result.key, result.entity, announce=False)
    home.announce()
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    hearth = assemble(
        config, bus=bus, publisher=MemoryPublisher(), listen=False, speak=False, home=home
    )
    hearth.prepare()
    yield hearth, events
    if hearth.model is not None:
        hearth.model.close()  # type: ignore[attr-defined]


def prompt_tokens(hearth: Hearth, text: str) -> int:
    model = hearth.model
    assert model is not None
    return model.count_tokens(text)  # type: ignore[attr-defined, no-any-return]


def test_the_tool_prompt_stays_within_the_budget_and_names_the_device(
    big: tuple[Hearth, list[Event]],
) -> None:
    hearth, _events = big
    router, config = hearth.router, hearth.config.llm
    whole = router.whole_catalog()
    assert len(whole.devices) >= DEVICES // 2  # the whole home: far too long for the prompt
    for text in ("close the Office 17 Blinds", "tell me a joke", "Porch 21 Thermostat to 19"):
        catalog = router.catalog(text)
        system = router.tool_caller.system_prompt(catalog)  # type: ignore[union-attr]
        assert system.startswith(f"{TOOL_PROMPT}\n{whole.tools_text()}")  # the cached part
        assert prompt_tokens(hearth, system) <= config.prompt_tokens <= config.n_ctx - 512
    for text, device in [
        ("close the Office 17 Blinds", "Office 17 Blinds"),
        ("Porch 21 Thermostat to 19", "Porch 21 Thermostat"),
    ]:
        assert device in [e.name for e in router.catalog(text).devices]
    assert router.catalog("tell me a joke").devices == ()


def test_a_free_question_gets_a_spoken_reply(big: tuple[Hearth, list[Event]]) -> None:
    hearth, events = big
    since = len(events)
    record = hearth.answerer().run_text("tell me a joke")
    new = events[since:]
    assert record.outcome == "ok", [e for e in new if isinstance(e, TurnFailed)]
    assert record.reply.strip()
    assert not [e for e in new if isinstance(e, TurnFailed)]
    answers = [e for e in new if isinstance(e, ModelConsulted) and e.layer == "llm_answer"]
    assert answers and answers[-1].outputs[-1].strip()
    free_prompt = answers[-1].prompt[0]["content"]
    assert "Office 17" not in free_prompt and "Devices:" not in free_prompt  # no device list


def test_a_tool_call_names_only_devices_of_its_short_list(
    big: tuple[Hearth, list[Event]],
) -> None:
    """The model reads the whole prompt (no "exceed context window") and its call, forced by
    the grammar, names a device of the short list, the named one among them."""
    hearth, _events = big
    model = hearth.model
    assert model is not None
    text = "the Office 17 Blinds, close them"
    catalog = hearth.router.catalog(text)
    messages = [
        {"role": "system", "content": hearth.router.tool_caller.system_prompt(catalog)},  # type: ignore[union-attr]
        {"role": "user", "content": text},
    ]
    output = model.complete_json(messages, catalog.schema(), 96, 300.0)
    assert isinstance(json.loads(output), dict), output
    call = parse_tool_call(output, catalog)
    listed = {e.entity_id for e in catalog.devices} | set(catalog.areas)
    if isinstance(call, ToolCall):
        assert {call.slots[slot] for slot in call.targets} <= listed
    assert "cover.office_17_blinds" in listed


def test_the_tool_path_runs_at_2000_devices(big: tuple[Hearth, list[Event]]) -> None:
    """A command the templates miss goes to the model and ends cleanly, never ``llm_failed``."""
    hearth, events = big
    since = len(events)
    record = hearth.answerer().run_text("the Office 17 Blinds, shut them")
    new = events[since:]
    assert not [e for e in new if isinstance(e, TurnFailed) and e.code == "llm_failed"]
    consulted = [e for e in new if isinstance(e, ModelConsulted) and e.layer == "llm"]
    assert consulted, "the tool layer was not consulted"
    assert all(json.loads(output) for output in consulted[0].outputs)
    assert record.reply.strip()
