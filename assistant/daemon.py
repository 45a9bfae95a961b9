"""Assembly: resolve the models, load them once (in parallel), and wire the pipeline."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .audio import AudioSink
from .config import Config
from .entities import EntityRegistry
from .events import Event, EventBus, event_to_json
from .models import resolve_stt, resolve_tts, resolve_vad, resolve_wake
from .mqtt import ActionPublisher
from .pipeline import Pipeline
from .router import TemplateRouter
from .skill import load_builtin_skills
from .stt import WhisperSpeechToText
from .tts import PiperTextToSpeech
from .vad import Endpointer, SileroVad
from .wake import OpenWakeWordDetector

__all__ = ["Loaded", "build_pipeline", "log_events"]

_LOGGER = logging.getLogger("assistant.events")


@dataclass(frozen=True, slots=True)
class Loaded:
    pipeline: Pipeline
    load_s: float  # wall time to load and warm every model


def build_pipeline(
    config: Config,
    *,
    bus: EventBus,
    publisher: ActionPublisher,
    listen: bool,
    speak: bool,
    sink: AudioSink | None = None,
) -> Loaded:
    """Load what the command needs: the router always, the audio models if ``listen``, the
    voice if ``speak``. Every model is resolved first, so a missing file fails before any load."""
    started = time.perf_counter()
    skills = load_builtin_skills()
    entities = EntityRegistry.from_config(config.entities)
    router = TemplateRouter(config.assistant.language, skills.intents())
    router.update_entities(entities)
    wake = stt = endpointer = tts = None
    loaders = [router.load]
    if listen:
        wake = OpenWakeWordDetector(resolve_wake(config.wake.model))
        vad = SileroVad(resolve_vad())
        stt = WhisperSpeechToText(
            resolve_stt(config.stt.model), config.stt, config.assistant.language
        )
        endpointer = Endpointer(vad, config.vad)
        loaders += [wake.load, vad.load, stt.load]
    if speak:
        tts = PiperTextToSpeech(resolve_tts(config.tts.voice), config.tts)
        loaders.append(tts.load)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearth-load") as pool:
        for future in [pool.submit(load) for load in loaders]:
            future.result()
    pipeline = Pipeline(
        config=config,
        bus=bus,
        router=router,
        skills=skills,
        entities=entities,
        publisher=publisher,
        wake=wake,
        endpointer=endpointer,
        stt=stt,
        tts=tts,
        sink=sink,
    )
    return Loaded(pipeline, time.perf_counter() - started)


def log_events(event: Event) -> None:
    """Event-stream subscriber: one log line per event."""
    body = event_to_json(event)
    details = " ".join(f"{k}={v}" for k, v in body.items() if k not in ("v", "type", "turn", "ts"))
    _LOGGER.info("%s turn=%s %s", event.type, event.turn, details)
