"""``hearth bench``: time every stage on this machine with generated speech.

Each utterance is "Hey Jarvis." followed by a command, spoken by the configured Piper voice and
resampled to 16 kHz, then run through the real pipeline (wake word, endpointer, speech-to-text,
router, skill, action, speech). Actions go to an in-memory publisher, so the figures exclude the
network hop to a broker (well under a millisecond on loopback). The reply cache is off, so every
reply is synthesised.
"""

from __future__ import annotations

import os
import platform
import resource
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..assemble import Hearth, assemble
from ..config import Config, EntityConfig
from ..events import CommandEnded, Event, EventBus, Transcript, TurnFinished
from ..home.actions import MemoryPublisher
from ..voice.audio import SAMPLE_RATE_HZ, ArraySource, MemorySink
from .llm_timing import time_language_model
from .repair_timing import time_repair

__all__ = ["print_table", "run_bench"]

COMMANDS = (
    "Turn on the kitchen light.",
    "Set the kitchen light to fifty percent.",
    "What time is it?",
)

STAGES = (
    ("wake", "wake word, per 80 ms frame"),
    ("endpoint", "endpointer wait after speech"),
    ("stt", "speech-to-text"),
    ("router", "router"),
    ("action", "MQTT publish"),
    ("tts_first_audio", "TTS first audio"),
    ("to_publish", "end of speech -> MQTT publish"),
    ("to_first_audio", "end of speech -> first audio"),
)


def _machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("model name", "Model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem_gib = int(fh.readline().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        mem_gib = 0.0
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "arch": platform.machine(),
        "python": platform.python_version(),
        # other work on the machine slows every stage: a bench on a busy machine says so
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def _speech(hearth: Hearth, text: str) -> np.ndarray:
    import soxr

    tts = hearth.tts
    assert tts is not None  # the bench assembles with speech
    audio = np.concatenate(list(tts.sentences(text))).astype(np.float32) / 32768.0
    resampled = soxr.resample(audio, tts.sample_rate_hz, SAMPLE_RATE_HZ)
    return (np.clip(resampled, -1, 1) * 32767).astype(np.int16)


def run_bench(config: Config, runs: int = 3, recommend: bool = False) -> dict[str, Any]:
    """Load the configured models, run ``runs`` spoken commands, return the measurements; with
    ``recommend``, also time the other local model sizes (see :mod:`assistant.tools.recommend`)."""
    bench_light = EntityConfig.model_validate(
        {
            "domain": "light",
            "name": "Kitchen Light",
            "unique_id": "hearth_bench_kitchen_light",
            "schema": "json",
            "command_topic": "hearth-bench/kitchen_light/set",
            "suggested_area": "Kitchen",
        }
    )
    # Every reply is synthesised afresh: the reply cache would hide the cost of the voice. No
    # generator noise: the same text gives the same audio, so runs repeat exactly.
    tts = config.tts.model_copy(
        update={"cache_replies": 0, "noise_scale": 0.0, "noise_w_scale": 0.0}
    )
    config = config.model_copy(update={"entities": (bench_light,), "tts": tts})
    bus = EventBus()
    finished: list[TurnFinished] = []
    transcripts: list[str] = []
    stt_rtf: list[float] = []
    speech_s: dict[str | None, float] = {}

    def collect(event: Event) -> None:
        if isinstance(event, TurnFinished):
            finished.append(event)
        elif isinstance(event, CommandEnded):
            speech_s[event.turn] = event.speech_s
        elif isinstance(event, Transcript):
            transcripts.append(event.text)
            if speech_s.get(event.turn):
                stt_rtf.append(event.stt_ms / 1000 / speech_s[event.turn])

    bus.subscribe(collect)
    publisher = MemoryPublisher()
    usage_start = resource.getrusage(resource.RUSAGE_SELF)
    # as `hearth run` does: the first broker attempt runs while the models load
    broker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-bench-broker")
    attempt = broker.submit(_broker_attempt, config)
    hearth = assemble(config, bus=bus, publisher=publisher, listen=True, speak=True)
    loop = hearth.hearing_loop(MemorySink())
    broker_attempt = attempt.result()
    broker.shutdown()
    started = time.perf_counter()
    hearth.prepare()
    prepare_s = time.perf_counter() - started
    ready = {
        "time_to_ready_s": _round(_process_age_s(), 2),
        "load_s": round(hearth.load_s, 2),
        "prepare_llm_s": round(prepare_s, 2) if hearth.router.thinks else None,
        "broker": broker_attempt,
    }
    silence = np.zeros(SAMPLE_RATE_HZ, dtype=np.int16)
    wake_phrase = _speech(hearth, "Hey Jarvis.")
    tts_rtf: list[float] = []
    clips: list[np.ndarray] = []
    stream: list[np.ndarray] = []
    for index in range(runs):
        command = COMMANDS[index % len(COMMANDS)]
        started = time.perf_counter()
        spoken = _speech(hearth, command)
        clips.append(spoken)
        tts_rtf.append((time.perf_counter() - started) / (len(spoken) / SAMPLE_RATE_HZ))
        stream += [silence, wake_phrase, silence[:8000], spoken, silence, silence]
    # one stream, as a microphone gives it: 2 s of silence after each command is more than the
    # wake word's refractory time, so every command wakes the assistant again
    audio = np.concatenate(stream)
    audio_s = len(audio) / SAMPLE_RATE_HZ
    loop.run(ArraySource(audio))
    repair = time_repair(hearth.router)
    language_model = time_language_model(hearth, prepare_ms=1000 * prepare_s)
    usage_end = resource.getrusage(resource.RUSAGE_SELF)
    stages = {}
    for key, label in STAGES:
        values = [t.timings_ms[key] for t in finished if key in t.timings_ms]
        if values:
            stages[key] = {
                "label": label,
                "median_ms": _ms(statistics.median(values)),
                "max_ms": _ms(max(values)),
                "n": len(values),
            }
    report = {
        "machine": _machine(),
        "models": {
            "wake": config.wake.model,
            "stt": config.stt.model,
            "tts": config.tts.voice,
            "stt_threads": config.stt.threads,
            "tts_threads": config.tts.threads,
        },
        "runs": runs,
        "turns_completed": sum(1 for t in finished if t.outcome == "ok"),
        "transcripts": transcripts,
        "messages": [[m.topic, m.payload] for m in publisher.messages],
        "load_s": round(hearth.load_s, 2),
        "ready": ready,
        "stages": stages,
        "stt_rtf": round(statistics.median(stt_rtf), 3) if stt_rtf else None,
        "tts_rtf": round(statistics.median(tts_rtf), 3),
        "cpu_s": round(
            usage_end.ru_utime + usage_end.ru_stime - usage_start.ru_utime - usage_start.ru_stime, 2
        ),
        "audio_s": round(audio_s, 1),
        "peak_rss_mb": round(usage_end.ru_maxrss / 1024, 1),
        "repair": repair,
        "language_model": language_model,
    }
    if recommend:
        from .recommend import recommend as recommend_sizes

        report["recommend"] = recommend_sizes(config, report, clips)
    return report


def _ms(value: float) -> float:
    """Milliseconds to 0.1 ms, or to the microsecond below 1 ms (a publish call)."""
    return round(value, 1) if value >= 1 else round(value, 3)


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux ``/proc``), or ``None`` where unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime_s = float(fh.read().split()[0])
        return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _broker_attempt(config: Config) -> dict[str, Any]:
    """The first broker attempt `hearth run` makes before READY, as a TCP connect (no MQTT
    session, so the bench leaves no trace on the broker). Skipped for a host the privacy rules
    refuse."""
    from ..service.privacy import broker_check

    host, port = config.mqtt.host, config.mqtt.port
    result: dict[str, Any] = {"host": host, "port": port}
    if not config.privacy.allow_remote and not broker_check(config).allowed:
        return {**result, "attempt_ms": None, "reachable": False, "note": "not allowed"}
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=5.0):
            reachable = True
    except OSError:
        reachable = False
    return {
        **result,
        "attempt_ms": round(1000 * (time.perf_counter() - started), 1),
        "reachable": reachable,
    }


def print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    models = report["models"]
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}"
    )
    print(
        f"models:  wake {models['wake']}, stt {models['stt']} ({models['stt_threads']} threads), "
        f"tts {models['tts']}"
    )
    print(
        f"load and warm-up: {report['load_s']:.2f} s   "
        f"turns: {report['turns_completed']}/{report['runs']} understood"
    )
    ready = report["ready"]
    broker = ready["broker"]
    reached = (
        f"reached in {broker['attempt_ms']:.0f} ms"
        if broker["reachable"]
        else f"not reachable ({broker.get('note') or 'tried'})"
    )
    since = ready["time_to_ready_s"]
    print(
        f"time to READY: {since:.2f} s from process start"
        if since is not None
        else "time to READY: unknown (no /proc)",
        f"(models {ready['load_s']:.2f} s, tool prompt {ready['prepare_llm_s'] or 0:.2f} s; "
        f"broker {broker['host']}:{broker['port']} {reached})",
    )
    print()
    print(f"{'stage':36s} {'median ms':>10s} {'max ms':>10s}")
    for stage in report["stages"].values():
        print(f"{stage['label']:36s} {stage['median_ms']:>10.1f} {stage['max_ms']:>10.1f}")
    print()
    print(
        f"real-time factors (processing time / audio length): speech-to-text "
        f"{report['stt_rtf']}, Piper {report['tts_rtf']}"
    )
    print(
        f"CPU time: {report['cpu_s']:.1f} s for {report['audio_s']:.1f} s of audio; "
        f"peak memory {report['peak_rss_mb']:.0f} MB"
    )
    repair = report.get("repair")
    if repair:
        print(
            f"repair of a template near-miss: {repair['median_ms']} ms median, {repair['p90_ms']} "
            f"ms p90 (n={repair['n']}); {repair['repaired']} of the bench's near-misses repaired"
        )
    model = report.get("language_model")
    if model:
        print(
            f"language model {model['model']}: tool prompt read in {model['prepare_ms']} ms "
            f"(at start); a tool call {model['tool_call_ms']} ms; a free answer's first sentence "
            f"{model['answer_first_sentence_ms']} ms, all of it {model['answer_total_ms']} ms"
        )
    print("Publishing went to memory: add your broker's round trip (under 1 ms on loopback).")
    if "recommend" in report:
        from .recommend import print_recommendation

        print_recommendation(report["recommend"])
