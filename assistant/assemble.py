"""Assembly: resolve the models, load them once (in parallel), and wire the pipeline."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .errors import ConfigError
from .events import Event, EventBus, event_to_json
from .home.entities import Entity
from .home.home import Home, exposure_filter
from .models import resolve_llm, resolve_stt, resolve_tts, resolve_vad, resolve_wake
from .mqtt.link import ActionPublisher
from .skill import SkillRegistry, load_skills
from .turn.pipeline import Pipeline
from .understanding.templates import TemplateRouter
from .voice.audio import AudioSink
from .voice.endpoint import Endpointer, SileroVad, VoiceDetector
from .voice.stt import WhisperSpeechToText
from .voice.tts import PiperTextToSpeech
from .voice.wake import OpenWakeWordDetector

if TYPE_CHECKING:
    from .understanding.language_model import LlamaCppModel
    from .understanding.model_router import LlmRouter

__all__ = ["Loaded", "build_pipeline", "log_events", "make_home"]

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
    home: Home | None = None,
) -> Loaded:
    """Load what the command needs: the router always, the audio models if ``listen``, the
    voice if ``speak``. Every model is resolved first, so a missing file fails before any load."""
    started = time.perf_counter()
    skills = load_skills(config.router.skills_dir)
    home = home or make_home(config)
    router = make_router(config, skills)
    router.update_entities(home.registry())
    wake = stt = endpointer = tts = None
    loaders = [router.load]
    if listen:
        wake, stt, endpointer = make_wake(config), make_stt(config), make_endpointer(config)
        loaders += [wake.load, endpointer.vad.load, stt.load]
    if speak:
        tts = make_tts(config)
        loaders.append(tts.load)
    llm = catalog = None
    if config.llm.enabled:
        from .understanding.tools import ToolCatalog

        model = make_llm_model(config)
        loaders.append(model.load)
        llm = make_llm_router(config, model)
        catalog = ToolCatalog.build

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearth-load") as pool:
        for future in [pool.submit(load) for load in loaders]:
            future.result()
    pipeline = Pipeline(
        config=config,
        bus=bus,
        router=router,
        skills=skills,
        home=home,
        publisher=publisher,
        wake=wake,
        endpointer=endpointer,
        stt=stt,
        tts=tts,
        sink=sink,
        llm=llm,
        catalog=catalog,
    )
    home.subscribe(pipeline.entities_changed)
    pipeline.entities_changed(home.registry())  # what was discovered while the models loaded
    return Loaded(pipeline, time.perf_counter() - started)


def make_router(config: Config, skills: SkillRegistry) -> TemplateRouter:
    """Router layer 1, not yet loaded."""
    router = TemplateRouter(config.assistant.language, skills.intents(), sentence_dirs(config))
    router.set_profiles(list(config.profiles))
    return router


def make_wake(config: Config) -> OpenWakeWordDetector:
    return OpenWakeWordDetector(resolve_wake(config.wake.model))


def make_stt(config: Config) -> WhisperSpeechToText:
    return WhisperSpeechToText(resolve_stt(config.stt.model), config.stt, config.assistant.language)


def make_endpointer(config: Config, vad: VoiceDetector | None = None) -> Endpointer:
    """An endpointer with ``vad`` (already loaded), or a new one to load."""
    return Endpointer(vad or SileroVad(resolve_vad()), config.vad)


def make_tts(config: Config) -> PiperTextToSpeech:
    return PiperTextToSpeech(resolve_tts(config.tts.voice), config.tts)


def make_llm_model(config: Config) -> LlamaCppModel:
    from .understanding.language_model import LlamaCppModel

    return LlamaCppModel(resolve_llm(config.llm.model), config.llm)


def make_llm_router(config: Config, model: LlamaCppModel) -> LlmRouter:
    from .understanding.model_router import LlmRouter

    return LlmRouter(model, config.llm)


def sentence_dirs(config: Config) -> list[Path]:
    """The built-in extra sentences (``skills/sentences``), then the user's folder."""
    import skills as package

    dirs = [Path(__file__).parent / "sentences", Path(package.__file__).parent / "sentences"]
    if config.router.sentences_dir:
        folder = Path(config.router.sentences_dir).expanduser()
        if not folder.is_dir():
            raise ConfigError(
                "sentences_missing", f"{folder}: folder not found (router.sentences_dir)"
            )
        dirs.append(folder)
    return dirs


def make_home(config: Config) -> Home:
    """The configured entities, and room for discovered ones behind the exposure filter."""
    return Home(
        (Entity.from_config(cfg) for cfg in config.entities), exposure_filter(config.expose)
    )


def log_events(event: Event) -> None:
    """Event-stream subscriber: one log line per event."""
    body = event_to_json(event)
    details = " ".join(f"{k}={v}" for k, v in body.items() if k not in ("v", "type", "turn", "ts"))
    _LOGGER.info("%s turn=%s %s", event.type, event.turn, details)
