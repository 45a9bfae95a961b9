"""``hearth run``: the daemon's life from start to stop.

Start the broker link, load the models, open the audio, start the dashboard, tell systemd it is
ready, and run the pipeline until the input ends or a signal stops it; then say STOPPING, stop
the dashboard, close the audio and publish ``offline``. SIGHUP reloads the configuration between
frames (:mod:`assistant.service.reload`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from ..config import load_config
from ..errors import HearthError
from .notify import Notifier, Watchdog
from .signals import Shutdown, Signals

if TYPE_CHECKING:
    from ..assemble import Hearth
    from ..config import Config
    from ..turn.activity import Activity
    from ..turn.pipeline import HearingLoop
    from ..voice.audio import AudioSink, AudioSource

__all__ = ["serve"]

_LOGGER = logging.getLogger(__name__)
_PREPARE_NICE = 19  # the tool prompt is read only when the CPU has nothing better to do
_BEHIND_JOIN_S = 10.0  # one reply's synthesis, or the rest of the tool prompt, at most


def serve(config_path: str | None, input_path: str | None, output_path: str | None) -> int:
    """``hearth run``: the microphone (or ``input_path``: a WAV, or ``-`` for raw PCM on
    standard input) until it ends or a signal stops it; the speaker or ``output_path``."""
    from ..assemble import assemble, log_events, make_home
    from ..dashboard.service import read_token
    from ..events import EventBus
    from ..home.exposure import check_config_exposure
    from ..journal.recording import start_journal
    from ..mqtt.link import DISCOVERY_LIMIT_S, DISCOVERY_QUIET_S, MqttLink
    from ..rooms.board import ClaimBoard
    from ..rooms.satellites import start_satellites
    from ..voice.supervise import HealthBoard

    started = time.perf_counter()
    signals = Signals()  # SIGTERM before the models are loaded: stop at once
    config = load_config(config_path)[0]
    dashboard_token = read_token(config.dashboard)  # a bad token file stops here, before models
    bus = EventBus()
    bus.subscribe(log_events)
    health = HealthBoard(bus.emit)  # the microphone's and the speaker's supervised loops
    source = _open_source(config, input_path, health)
    home = make_home(config)
    link = MqttLink(config.mqtt, config.assistant.node_id, home=home, emit=bus.emit)
    bus.subscribe(link.on_event)
    board = ClaimBoard(config.rooms, config.assistant.node_id, send=link.send, emit=bus.emit)
    link.listen(ClaimBoard.topics, board.on_message)
    link.start()
    sink: Any = None
    notifier = Notifier()
    watchdog: Watchdog | None = None
    behind: _Behind | None = None
    recording: Any = None
    satellites: list[Any] = []
    dashboard: Any = None
    try:
        hearth = assemble(config, bus=bus, publisher=link, listen=True, speak=True, home=home)
        assert hearth.tts is not None
        sink = _open_sink(config, output_path, hearth.tts.sample_rate_hz, health)
        node_id = config.assistant.node_id
        loop = hearth.hearing_loop(sink, board.seat(node_id, config.assistant.area), room=node_id)
        running = _Running(hearth, loop, config_path)
        recording = start_journal(config, bus, link, loop)
        dashboard = _start_dashboard(running, dashboard_token)
        signals.loop = loop
        signals.reload = lambda: loop.call_soon(running.reload)
        link.on_command = loop.submit
        if link.wait_first_attempt(5.0):
            # retained discovery first, so the router and the model's prompt know the devices
            if not link.wait_discovered(DISCOVERY_QUIET_S, DISCOVERY_LIMIT_S):
                _LOGGER.warning(
                    "retained discovery did not finish before starting (%d entities known so "
                    "far); the rest are learned as they come",
                    home.count(),
                )
            check_config_exposure(config, [e for e, _, _ in home.known()])
        else:
            _LOGGER.warning(
                "broker %s:%s not reachable yet; retrying in the background",
                config.mqtt.host,
                config.mqtt.port,
            )
        _LOGGER.info("ready in %.1f s; listening for %s", hearth.load_s, config.wake.model)
        status = _StatusLine(config.wake.model, link, loop.activity, health)
        bus.subscribe(lambda event: status.on_event(event, notifier))
        health.on_change(lambda _health: status.refresh(notifier))
        notifier.ready(status.text())
        link.mark_ready()  # only now online: commands that came while starting are queued
        satellites = start_satellites(hearth, board)  # rooms of their own, each connecting
        behind = _Behind(hearth, started)
        watchdog = Watchdog(notifier, lambda: status.refresh(notifier) and loop.alive())
        watchdog.start()
        turns = loop.run(source)
        _LOGGER.info("input ended after %d turn(s)", turns)
    except Shutdown:
        _LOGGER.info("stopping")
    finally:
        signals.restore()
        if watchdog is not None:
            watchdog.stop()
        if behind is not None:
            behind.stop()
        notifier.stopping()
        for satellite in satellites:
            satellite.stop()
        if dashboard is not None:
            dashboard.stop()
        if sink is not None:
            sink.close()
        source.close()
        if recording is not None:
            recording.close()
        link.stop(timeout_s=1.5)
    return 0


class _Behind:
    """Start-up work done once Hearth listens: the language model's tool prompt, then the fixed
    replies, in a thread of its own at the lowest CPU priority. A command the templates
    understand never waits for it; one that needs the model stops the read and reads the
    prompt itself at its own priority. :meth:`stop` ends it between two replies, before the
    process exits."""

    def __init__(self, hearth: Hearth, since: float) -> None:
        self._hearth = hearth
        self._since = since  # when hearth run started (perf_counter)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hearth-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # lower only this thread (Linux: a thread is a task)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _PREPARE_NICE)
        started = time.perf_counter()
        if self._hearth.prepare(gives_way=True):
            done = time.perf_counter()
            _LOGGER.info(  # the second figure is what a first command to the model sees
                "tool prompt read in %.1f s; ready in %.1f s with it",
                done - started,
                done - self._since,
            )
        started = time.perf_counter()
        try:
            made = self._hearth.keep_replies(self._stop)
        except HearthError as err:  # the voice failed: the replies are synthesised when given
            _LOGGER.warning("could not synthesise the fixed replies ahead: %s", err.message)
            return
        took_s = time.perf_counter() - started
        _LOGGER.info("%d fixed replies synthesised ahead in %.1f s", made, took_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=_BEHIND_JOIN_S)


def _start_dashboard(running: _Running, token: str | None) -> Any:
    """The dashboard on the running Hearth (``None``: turned off, or its port is taken)."""
    from ..dashboard.hearth_backend import HearthBackend
    from ..dashboard.service import start_dashboard

    config = running.hearth.config.dashboard
    if not config.enabled:
        return None
    backend = HearthBackend(lambda: running.hearth, running.loop)
    server = start_dashboard(config, backend, token)
    if server is None:
        backend.close()
        return None
    return _Dashboard(server, backend)


class _Dashboard:
    """The dashboard's server and its backend, stopped together."""

    def __init__(self, server: Any, backend: Any) -> None:
        self.server = server
        self.backend = backend

    def stop(self) -> None:
        self.server.stop()
        self.backend.close()


def _open_source(config: Config, input_path: str | None, health: Any) -> AudioSource:
    from ..voice.audio import PcmStreamSource, WavFileSource
    from ..voice.soundcard import MicrophoneSource

    if input_path == "-":
        return PcmStreamSource(sys.stdin.buffer)
    if input_path:
        return WavFileSource(input_path)
    return MicrophoneSource(config.audio.input_device, on_health=health.report)


def _open_sink(
    config: Config, output_path: str | None, rate_hz: int, health: Any
) -> AudioSink | None:
    """The WAV file, else the speaker; with no speaker, replies are text only."""
    from ..errors import DeviceMissingError
    from ..voice.audio import WavFileSink
    from ..voice.soundcard import SpeakerSink

    if output_path:
        return WavFileSink(output_path, rate_hz)
    try:
        return SpeakerSink(config.audio.output_device, rate_hz, on_health=health.report)
    except DeviceMissingError as err:
        _LOGGER.warning("%s; replies are published as text only", err.message)
        return None


class _Running:
    """The assembled Hearth in use, and SIGHUP's reload of it (in the loop's thread)."""

    def __init__(self, hearth: Hearth, loop: HearingLoop, config_path: str | None) -> None:
        self.hearth = hearth
        self.loop = loop
        self._config_path = config_path

    def reload(self) -> None:
        """The new configuration, or a log line and the old one."""
        from ..events import TurnFailed
        from .reload import reload

        _LOGGER.info("SIGHUP: reloading the configuration")
        try:
            self.hearth, report = reload(self.hearth, self.loop, load_config(self._config_path)[0])
        except HearthError as err:
            _LOGGER.error("reload refused, the running configuration stays: %s", err.message)
            message = err.message
            self.hearth.bus.emit(TurnFailed(turn=None, code="reload_refused", message=message))
            return
        _LOGGER.info("%s", report.summary())


class _StatusLine:
    """What ``systemctl status`` shows: "listening for hey jarvis; broker connected; 3 turns
    today"."""

    def __init__(self, wake: str, link: Any, activity: Activity, health: Any = None) -> None:
        self._wake = wake.replace("_", " ")
        self._link = link
        self._activity = activity
        self._health = health  # a HealthBoard: "microphone lost; retrying in 8 s"
        self._day = ""
        self._turns = 0
        self._shown = ""

    def text(self) -> str:
        doing = "muted" if self._activity.muted else f"listening for {self._wake}"
        problems: list[str] = self._health.problems() if self._health is not None else []
        if any(problem.startswith("microphone ") for problem in problems):
            doing = problems.pop(0)  # not listening while the microphone is away
        broker = "broker connected" if self._link.connected else "broker unreachable"
        turns = f"{self._turns} turn{'s' if self._turns != 1 else ''} today"
        return "; ".join([doing, *problems, broker, turns])

    def on_event(self, event: Any, notifier: Notifier) -> None:
        if event.type == "turn_end":
            today = time.strftime("%Y-%m-%d")
            if today != self._day:
                self._day, self._turns = today, 0
            self._turns += 1
        if event.type in ("turn_end", "state"):
            self.refresh(notifier)

    def refresh(self, notifier: Notifier) -> bool:
        """Send the status if it changed; always true (for use in the watchdog check)."""
        current = self.text()
        if current != self._shown:
            self._shown = current
            notifier.status(current)
        return True
