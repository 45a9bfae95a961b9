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

from ..assemble import Hearth, assemble
from ..config import Config
from ..home.entities import Entity
from ..home.exposure import check_config_exposure
from ..home.home import exposure_filter
from ..turn.pipeline import HearingLoop

__all__ = ["ReloadReport", "reload"]

_LOGGER = logging.getLogger(__name__)

_NEEDS_RESTART = ("mqtt", "audio", "assistant.node_id", "assistant.language")


@dataclass(slots=True)
class ReloadReport:
    """What a reload changed; ``needs_restart`` lists changes it did not apply."""

    changed: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # stages whose model was loaded again
    needs_restart: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.changed:
            return (
                "configuration unchanged; sentence and skill files read again in "
                f"{self.seconds:.1f} s"
            )
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


def reload(hearth: Hearth, loop: HearingLoop | None, config: Config) -> tuple[Hearth, ReloadReport]:
    """Assemble Hearth anew from ``config``, keeping each model whose own keys did not change,
    then swap it into ``loop`` as one. Raises (a :class:`HearthError`) before changing anything
    if a part of it cannot be built or loaded. Call between turns, in the loop's thread."""
    started = time.perf_counter()
    old = hearth.config
    report = ReloadReport(changed=_changed(old, config))
    report.needs_restart = [k for k in _NEEDS_RESTART if _get(old, k) != _get(config, k)]
    # even with the same configuration, the sentence and skill files may have been edited
    new = assemble(
        config,
        bus=hearth.bus,
        publisher=hearth.publisher,
        listen=hearth.listens,
        speak=hearth.tts is not None,
        home=hearth.home,
        reuse=hearth,
    )
    entities = [Entity.from_config(cfg) for cfg in config.entities]
    report.models = [stage for stage in new.loaded if stage != "vad"]
    # -- everything is built and loaded: swap, all at once -----------------------------------
    home = hearth.home
    home.unsubscribe(hearth.router.update_entities)
    home.subscribe(new.router.update_entities)
    if loop is not None:
        loop.swap(new.stages(loop.activity, loop.sink, loop.announce))
    home.reconfigure(entities, exposure_filter(config.expose))  # feeds the new router
    check_config_exposure(config, [e for e, _, _ in home.known()])
    new.prepare()
    report.seconds = time.perf_counter() - started
    return new, report
