"""Reloading the configuration in a running daemon (SIGHUP).

Devices, exposure, profiles, sentences, skills and their settings, the endpointer and the wake
threshold change in place; a model is loaded again only when its own keys changed. Everything
new is built and loaded before anything is swapped, so a configuration that fails validation, or
a model that fails to load, leaves the running daemon exactly as it was. The broker connection and
the audio devices are kept: changing ``[mqtt]``, ``[audio]``, ``assistant.node_id`` or
``assistant.language`` needs a restart, and the log says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ..assemble import (
    make_endpointer,
    make_llm_model,
    make_llm_router,
    make_router,
    make_stt,
    make_tts,
    make_wake,
)
from ..config import Config
from ..home.entities import Entity
from ..home.home import exposure_filter
from ..skill import load_skills
from ..turn.answer import data_dir
from ..turn.conversation import Conversation
from ..turn.pipeline import Pipeline
from ..turn.profiles import Profiles
from ..understanding.tools import ToolCatalog
from ..voice.wake import WakeGate

__all__ = ["ReloadReport", "reload_pipeline"]

_LOGGER = logging.getLogger(__name__)

_NEEDS_RESTART = ("mqtt", "audio", "assistant.node_id", "assistant.language")
_LLM_MODEL_KEYS = ("enabled", "model", "chat_format", "n_ctx", "n_threads")


@dataclass(slots=True)
class ReloadReport:
    """What a reload changed; ``needs_restart`` lists changes it did not apply."""

    changed: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # stages whose model was loaded again
    needs_restart: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.changed:
            return "configuration unchanged"
        text = f"reloaded {', '.join(self.changed)} in {self.seconds:.1f} s"
        text += f"; models loaded again: {', '.join(self.models)}" if self.models else ""
        text += "; models unchanged" if not self.models else ""
        if self.needs_restart:
            text += f"; {', '.join(self.needs_restart)} changed: restart Hearth to apply"
        return text


def _get(config: Config, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _changed(old: Config, new: Config) -> list[str]:
    """Top-level sections whose values differ."""
    before, after = old.model_dump(), new.model_dump()
    return [key for key in after if before.get(key) != after[key]]


def reload_pipeline(pipeline: Pipeline, config: Config) -> ReloadReport:
    """Apply ``config`` to the running ``pipeline``; raises (a :class:`HearthError`) before
    changing anything if a part of it cannot be built. Call between turns, in the audio thread."""
    started = time.perf_counter()
    old = pipeline.config
    report = ReloadReport(changed=_changed(old, config))
    report.needs_restart = [k for k in _NEEDS_RESTART if _get(old, k) != _get(config, k)]
    if not report.changed:
        return report
    # -- build and load everything new first -------------------------------------------------
    skills = load_skills(config.router.skills_dir)
    router = make_router(config, skills)
    router.load()
    entities = [Entity.from_config(cfg) for cfg in config.entities]
    wake = stt = tts = None
    if pipeline.wake is not None and old.wake.model != config.wake.model:
        wake = make_wake(config)
        wake.load()
        report.models.append("wake")
    if pipeline.stt is not None and old.stt != config.stt:
        stt = make_stt(config)
        stt.load()
        report.models.append("stt")
    if pipeline.tts is not None and old.tts != config.tts:
        tts = make_tts(config)
        tts.load()
        report.models.append("tts")
    llm_model_changed = any(getattr(old.llm, k) != getattr(config.llm, k) for k in _LLM_MODEL_KEYS)
    llm: Any = pipeline.llm
    if config.llm.enabled and (llm_model_changed or old.llm != config.llm):
        model = getattr(llm, "model", None)
        if llm_model_changed or model is None:
            model = make_llm_model(config)
            model.load()
            report.models.append("llm")
        llm = make_llm_router(config, model)
    elif not config.llm.enabled:
        llm = None
    # -- then swap, all at once --------------------------------------------------------------
    active = pipeline.profiles.active
    pipeline.config = config
    pipeline.skills = skills
    pipeline.router = router
    pipeline.profiles = Profiles(config)
    if active and active in config.profiles:
        pipeline.profiles.switch(active)
    pipeline.conversation = Conversation(config.conversation.timeout_s)
    pipeline.gate = WakeGate(config.wake.threshold, config.wake.refractory_s)
    if pipeline.endpointer is not None:
        pipeline.endpointer = make_endpointer(config, pipeline.endpointer.vad)
    pipeline.wake = wake or pipeline.wake
    pipeline.stt = stt or pipeline.stt
    pipeline.tts = tts or pipeline.tts
    pipeline.data_dir = data_dir(config)
    pipeline.set_language_model(llm, ToolCatalog.build)
    pipeline.home.reconfigure(entities, exposure_filter(config.expose))  # feeds the new router
    pipeline.prepare_language_model()
    report.seconds = time.perf_counter() - started
    return report
