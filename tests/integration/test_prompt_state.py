"""The tool prompt's state on disk, with the real SmolLM2-135M: read once, then restored by a
new process's model instead of read again; a damaged or stale file is not used."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from model_layers import ModelLayers
from small_home import ENTITIES

from assistant.config import LlmConfig
from assistant.models import resolve_llm
from assistant.turn.skills import load_builtin_skills
from assistant.understanding.language_model import LlamaCppModel
from assistant.understanding.tool_catalog import ToolCatalog

TOOLS = [tool for skill in load_builtin_skills() for tool in getattr(skill, "tools", ())]
CATALOG = ToolCatalog.build(TOOLS, ENTITIES)
CONFIG = LlmConfig(temperature=0.0)


def fresh(state_dir: Path) -> tuple[LlamaCppModel, ModelLayers]:
    model = LlamaCppModel(resolve_llm("smollm2-135m"), CONFIG, state_dir=state_dir)
    model.load()
    return model, ModelLayers(model, CONFIG)


def prepare_s(layers: ModelLayers) -> float:
    started = time.perf_counter()
    layers.prepare(CATALOG)
    return time.perf_counter() - started


def test_the_prompt_is_read_once_and_then_restored(tmp_path: Path) -> None:
    first, layers = fresh(tmp_path)
    read_s = prepare_s(layers)
    kept = list(tmp_path.glob("*.npz"))
    assert len(kept) == 1
    fresh_call = layers.decide("what time is it", CATALOG, [])
    first.close()

    second, again = fresh(tmp_path)
    messages = [{"role": "system", "content": again.system_prompt(CATALOG)}]
    messages.append({"role": "user", "content": "hello"})
    assert second.prepare(messages, CATALOG.schema(), 300.0)  # from disk
    restored_s = prepare_s(again)
    assert restored_s < read_s  # timings themselves are in hearth bench
    # the restored state answers as the freshly read one did
    restored_call = again.decide("what time is it", CATALOG, [])
    assert restored_call is not None and fresh_call is not None
    assert (restored_call.intent, restored_call.slots) == (fresh_call.intent, fresh_call.slots)
    second.close()


def test_a_damaged_state_is_read_again(tmp_path: Path) -> None:
    first, layers = fresh(tmp_path)
    layers.prepare(CATALOG)
    first.close()
    (kept,) = tmp_path.glob("*.npz")
    kept.write_bytes(kept.read_bytes()[:1000])
    second, again = fresh(tmp_path)
    messages = [{"role": "system", "content": again.system_prompt(CATALOG)}]
    messages.append({"role": "user", "content": "hello"})
    assert not second.prepare(messages, CATALOG.schema(), 300.0)  # read again, kept anew
    assert kept.stat().st_size > 1000
    call = again.decide("what time is it", CATALOG, [])
    assert call is not None and call.intent == "HassGetCurrentTime"
    second.close()


def test_another_prompt_has_its_own_state(tmp_path: Path) -> None:
    model, layers = fresh(tmp_path)
    layers.prepare(CATALOG)
    smaller = ToolCatalog.build(TOOLS[:3], ENTITIES)
    layers.prepare(smaller)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    model.close()


def test_a_read_that_gives_way_stops_for_a_command(tmp_path: Path) -> None:
    """The tool prompt read behind READY, at the lowest priority, stops as soon as a command
    needs the model, instead of holding the model while the command waits."""
    model, layers = fresh(tmp_path)
    outcome: list[bool] = []
    behind = threading.Thread(target=lambda: outcome.append(layers.prepare(CATALOG, True)))
    behind.start()
    while not model._lock.locked() and behind.is_alive():
        time.sleep(0.001)
    time.sleep(0.3)  # past the look for a saved state: reading takes seconds
    assert model._lock.locked()  # the read holds the model
    call = layers.decide("what time is it", CATALOG, [])
    behind.join()
    assert outcome == [False]  # it gave way
    assert list(tmp_path.glob("*.npz"))  # the command read the prompt and kept it
    assert call is not None and call.intent == "HassGetCurrentTime"
    model.close()
