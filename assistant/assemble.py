"""Assembly, in one place: the configuration in, an assembled :class:`Hearth` out.

:func:`assemble` resolves every model first (so a missing file fails before anything loads),
loads them once, two at a time, and wires the router, the skills and the home together.
``hearth run``, ``hearth ask``, ``hearth bench``, ``hearth doctor`` and a reload all call it; a
reload passes the running Hearth as ``reuse`` so that a model whose own keys did not change is
kept instead of loaded again.

A :class:`Hearth` is what every room shares (the models, the home, the router, the skills, the
profiles); :meth:`Hearth.stages` makes what one room runs (its answerer, with its own voice and
conversation, and its hearing stages).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, data_dir
from .errors import ConfigError
from .events import Event, EventBus, event_to_json
from .files import private_folder
from .home.actions import ActionPublisher
from .home.entities import Entity, area_id
from .home.home import Home, exposure_filter
from .model_packages import model_cache
from .models import resolve_llm, resolve_stt, resolve_tts, resolve_vad, resolve_wake
from .rooms.board import AnswerAlways, WakeArbiter
from .turn.activity import Activity
from .turn.answer import Answerer
from .turn.conversation import Conversation
from .turn.pipeline import Hearing, HearingLoop, Stages
from .turn.profiles import Profiles
from .turn.skills import SkillRegistry, load_skills
from .turn.speech import Voice
from .understanding.free_answer import FreeAnswerer
from .understanding.language_model import LanguageModel, token_counter
from .understanding.prompt_budget import PromptBudget
from .understanding.router import Router
from .understanding.templates import TemplateRouter
from .understanding.tool_call import ToolCaller
from .voice.audio import AudioSink
from .voice.endpoint import Endpointer, SileroVad, VoiceDetector
from .voice.stt import SpeechToText, WhisperSpeechToText
from .voice.tts import PiperTextToSpeech, TextToSpeech
from .voice.wake import OpenWakeWordDetector, WakeDetector
from .voice.wyoming_speech import WyomingSpeechToText, WyomingTextToSpeech

__all__ = ["Given", "Hearth", "assemble", "log_events", "make_home"]

_LOGGER = logging.getLogger("assistant.events")

_LLM_MODEL_KEYS = ("enabled", "model", "chat_format", "n_ctx", "n_threads")


@dataclass(frozen=True, slots=True)
class Given:
    """Stages to use as they are instead of the configured models (the fakes in
    :mod:`assistant.fakes`, for tests of the turn logic); each is loaded like the others."""

    wake: WakeDetector | None = None
    vad: VoiceDetector | None = None
    stt: SpeechToText | None = None
    tts: TextToSpeech | None = None
    model: LanguageModel | None = None


@dataclass(slots=True)
class Hearth:
    """The assembled assistant: the models, loaded once, and what every room shares."""

    config: Config
    bus: EventBus
    home: Home
    publisher: ActionPublisher
    skills: SkillRegistry
    profiles: Profiles
    router: Router
    wake: WakeDetector | None = None
    vad: VoiceDetector | None = None
    stt: SpeechToText | None = None
    tts: TextToSpeech | None = None
    model: LanguageModel | None = None
    load_s: float = 0.0  # wall time to load and warm what this assembly loaded
    loaded: list[str] = field(default_factory=list)  # the stages whose model was loaded

    @property
    def listens(self) -> bool:
        return self.wake is not None and self.vad is not None and self.stt is not None

    def answerer(
        self,
        activity: Activity | None = None,
        sink: AudioSink | None = None,
        announce: Callable[[str], None] | None = None,
        area: str | None = None,
        bus: EventBus | None = None,
    ) -> Answerer:
        """An answerer for one room: its own voice (``sink``: none for text only) and
        conversation; ``area`` is the room's (default ``assistant.area``), ``bus`` its events'
        (default the Hearth's)."""
        bus = bus or self.bus
        activity = activity or Activity(bus.emit)
        voice = Voice(bus, activity, self.tts, sink)
        answerer = Answerer(
            config=self.config,
            bus=bus,
            router=self.router,
            skills=self.skills,
            home=self.home,
            publisher=self.publisher,
            profiles=self.profiles,
            voice=voice,
            activity=activity,
            conversation=Conversation(self.config.conversation.timeout_s),
            data_dir=_private_data_dir(self.config),
            announce=announce,
            area=self.config.assistant.area if area is None else area,
        )
        voice.on_failure = answerer.fail
        return answerer

    def stages(
        self,
        activity: Activity,
        sink: AudioSink | None,
        announce: Callable[[str], None] | None = None,
        area: str | None = None,
        *,
        hearing: Hearing | None = None,
        bus: EventBus | None = None,
    ) -> Stages:
        """What one room's hearing loop runs (``area``: the room's, default
        ``assistant.area``; ``hearing``: its own listening stages, default the Hearth's)."""
        if self.wake is None or self.vad is None or self.stt is None:
            raise ConfigError("not_listening", "this Hearth was assembled without listening")
        hearing = hearing or Hearing(self.wake, Endpointer(self.vad, self.config.vad), self.stt)
        answerer = self.answerer(activity, sink, announce, area, bus)
        return Stages(self.config, hearing, answerer)

    def hearing_loop(
        self,
        sink: AudioSink | None = None,
        arbiter: WakeArbiter | None = None,
        *,
        room: str = "",
        area: str | None = None,
        own_hearing: bool = False,
        bus: EventBus | None = None,
    ) -> HearingLoop:
        """A hearing loop for one audio source, speaking to ``sink``; ``arbiter`` decides
        whether a wake word heard here is this room's to answer (default: always). A second
        room (``own_hearing``) gets a wake word detector and an endpointer of its own, which
        keep state between frames; speech-to-text, the router and the voice are shared."""
        seat = arbiter or AnswerAlways()
        room_bus = bus or self.bus

        def emit(event: Event) -> None:
            room_bus.emit(event)
            seat.state(event)

        activity = Activity(emit)
        loop: HearingLoop | None = None

        def announce(text: str) -> None:
            if loop is not None:
                loop.announce(text)

        hearing = self._own_hearing() if own_hearing else None
        stages = self.stages(activity, sink, announce, area, hearing=hearing, bus=room_bus)
        loop = HearingLoop(stages, activity, arbiter=seat, room=room)
        return loop

    def _own_hearing(self) -> Hearing:
        """A wake word detector and a voice detector of the configured models, loaded."""
        wake = OpenWakeWordDetector(resolve_wake(self.config.wake.model))
        vad = SileroVad(resolve_vad())
        wake.load()
        vad.load()
        if self.stt is None:
            raise ConfigError("not_listening", "this Hearth was assembled without listening")
        return Hearing(wake, Endpointer(vad, self.config.vad), self.stt)

    def prepare(self, gives_way: bool = False) -> bool:
        """Read the language model's tool prompt now, before the first command needs it (with
        ``gives_way``: unless a command needs the model first, which then reads it); ``False``
        when it was not read."""
        return self.router.prepare(gives_way)

    def keep_replies(self, stop: threading.Event | None = None) -> int:
        """Synthesise the fixed replies to switching each exposed device on and off, so that
        their audio is ready the moment the action is published, until ``stop`` is set;
        returns how many were made."""
        from skills.home_control import likely_replies

        if self.tts is None:
            return 0
        return self.tts.keep(likely_replies(self.home.registry()), stop)


def assemble(
    config: Config,
    *,
    bus: EventBus,
    publisher: ActionPublisher,
    listen: bool,
    speak: bool,
    home: Home | None = None,
    reuse: Hearth | None = None,
    given: Given | None = None,
) -> Hearth:
    """Build Hearth from ``config``: the router always, the audio models if ``listen``, the
    voice if ``speak``, the language model if ``llm.enabled``. With ``reuse``, a model whose
    own configuration did not change is taken from it; a stage in ``given`` is used instead of
    its configured model. Raises a :class:`HearthError` before
    anything is returned if a part cannot be built or loaded."""
    started = time.perf_counter()
    skills = load_skills(config.router.skills_dir)
    home = home or make_home(config)
    profiles = Profiles(config)
    if reuse is not None and reuse.profiles.active in config.profiles:
        profiles.switch(reuse.profiles.active)
    templates = TemplateRouter(config.assistant.language, skills.intents(), sentence_dirs(config))
    templates.set_profiles(list(config.profiles))
    loaders: list[tuple[str, Callable[[], None]]] = [("", templates.load)]
    kept = _Kept(reuse, config)
    given = given or Given()
    wake: WakeDetector | None = None
    vad: VoiceDetector | None = None
    stt: SpeechToText | None = None
    tts: TextToSpeech | None = None
    model: LanguageModel | None = None
    if listen:
        wake = given.wake or kept.wake
        if given.wake is not None:
            loaders.append(("wake", given.wake.load))
        if wake is None:
            wake = OpenWakeWordDetector(resolve_wake(config.wake.model))
            loaders.append(("wake", wake.load))
        vad = given.vad or kept.vad
        if given.vad is not None:
            loaders.append(("vad", given.vad.load))
        if vad is None:
            vad = SileroVad(resolve_vad())
            loaders.append(("vad", vad.load))
        stt = given.stt or kept.stt
        if given.stt is not None:
            loaders.append(("stt", given.stt.load))
        if stt is None:
            stt = WhisperSpeechToText(
                resolve_stt(config.stt.model), config.stt, config.assistant.language
            )
            if config.stt.uri:  # a server first, the local model as its fallback
                remote_stt = WyomingSpeechToText(
                    config.stt.uri, config.stt.server_timeout_s, stt, config.assistant.language
                )
                remote_stt.server.emit = bus.emit
                stt = remote_stt
            loaders.append(("stt", stt.load))
    if speak:
        tts = given.tts or kept.tts
        if given.tts is not None:
            loaders.append(("tts", given.tts.load))
        if tts is None:
            tts = PiperTextToSpeech(resolve_tts(config.tts.voice), config.tts)
            if config.tts.uri:
                remote_tts = WyomingTextToSpeech(config.tts.uri, config.tts.server_timeout_s, tts)
                remote_tts.server.emit = bus.emit
                tts = remote_tts
            loaders.append(("tts", tts.load))
    if config.llm.enabled:
        model = given.model or kept.model
        if given.model is not None:
            loaders.append(("llm", given.model.load))
        if model is None:
            from .understanding.language_model import LlamaCppModel

            model = LlamaCppModel(
                resolve_llm(config.llm.model, model_cache()),
                config.llm,
                state_dir=model_cache() / "prompts",
            )
            loaders.append(("llm", model.load))

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearth-load") as pool:
        for future in [pool.submit(load) for _, load in loaders]:
            future.result()
    router = Router(
        templates=templates,
        skills=skills,
        home=home,
        profiles=profiles,
        bus=bus,
        config=config.llm,
        tool_caller=ToolCaller(model, config.llm) if model is not None else None,
        answerer=FreeAnswerer(model, config.llm) if model is not None else None,
        prompts=PromptBudget(
            config.llm.prompt_tokens,
            config.llm.n_ctx,
            token_counter(model),
            area_id(config.assistant.area),  # the room this node is in
        ),
    )
    if reuse is None:
        home.subscribe(router.update_entities)
        router.update_entities(home.registry())  # what was discovered while the models loaded
    return Hearth(
        config=config,
        bus=bus,
        home=home,
        publisher=publisher,
        skills=skills,
        profiles=profiles,
        router=router,
        wake=wake,
        vad=vad,
        stt=stt,
        tts=tts,
        model=model,
        load_s=time.perf_counter() - started,
        loaded=[stage for stage, _ in loaders if stage],
    )


class _Kept:
    """The models of a running Hearth that a new configuration can keep: each one whose own
    keys did not change (the endpointer's VAD has none)."""

    def __init__(self, reuse: Hearth | None, config: Config) -> None:
        self._reuse = reuse
        self._old = reuse.config if reuse is not None else None
        self._new = config

    @property
    def wake(self) -> WakeDetector | None:
        if self._reuse is None or self._old is None:
            return None
        return self._reuse.wake if self._old.wake.model == self._new.wake.model else None

    @property
    def vad(self) -> VoiceDetector | None:
        return self._reuse.vad if self._reuse is not None else None

    @property
    def stt(self) -> SpeechToText | None:
        if self._reuse is None or self._old is None:
            return None
        return self._reuse.stt if self._old.stt == self._new.stt else None

    @property
    def tts(self) -> TextToSpeech | None:
        if self._reuse is None or self._old is None:
            return None
        return self._reuse.tts if self._old.tts == self._new.tts else None

    @property
    def model(self) -> LanguageModel | None:
        if self._reuse is None or self._old is None:
            return None
        old, new = self._old.llm, self._new.llm
        same = all(getattr(old, key) == getattr(new, key) for key in _LLM_MODEL_KEYS)
        return self._reuse.model if same else None


def _private_data_dir(config: Config) -> Path:
    """Where skills keep their files (lists, timers), made ``0700`` if Hearth creates it; a
    folder that cannot be made now is left for the skill's own write to report."""
    folder = data_dir(config)
    with contextlib.suppress(OSError):
        private_folder(folder)
    return folder


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
