"""One model runtime, loaded and run on real input, for the hardening emulation.

``python tests/support/sandbox_probe.py STAGE WAV`` loads the bundled model of one stage with
Hearth's own adapter and runs it on ``WAV`` (16 kHz mono speech of "Hey Jarvis. Turn on the kitchen
light."):

- ``wake``: openWakeWord on tflite-runtime with the XNNPACK delegate;
- ``vad``: Silero VAD on onnxruntime;
- ``stt``: faster-whisper on CTranslate2 (oneDNN, Intel MKL);
- ``llm``: llama-cpp-python with the SmolLM2 GGUF;
- ``tts``: Piper on onnxruntime.

It prints one line, ``ok STAGE …`` (exit 0) or ``fail STAGE …`` (exit 1): the stage must
produce a result that shows it worked (the wake word found, speech found, the words heard,
text generated, audible speech), not merely load.

``python tests/support/sandbox_probe.py --matrix WAV`` (as root) runs every stage under each option
of scripts/sandbox.py alone and under the unit's whole set, and prints a table.
"""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STAGES = ("wake", "vad", "stt", "llm", "tts")


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()


def _probe(stage: str, audio: np.ndarray) -> str:
    from assistant import config, models

    if stage == "wake":
        from assistant.voice.wake import OpenWakeWordDetector

        detector = OpenWakeWordDetector(models.resolve_wake("hey_jarvis"))
        detector.load()
        best = max(detector.score(audio[i : i + 1280]) for i in range(0, len(audio) - 1280, 1280))
        assert best > 0.5, f"wake score only {best:.2f}"
        return f"score={best:.2f}"
    if stage == "vad":
        from assistant.voice.endpoint import SileroVad

        vad = SileroVad(models.resolve_vad())
        vad.load()
        best = max(vad.speech_probability(audio[i : i + 512]) for i in range(0, len(audio), 512))
        assert best > 0.5, f"speech probability only {best:.2f}"
        return f"speech={best:.2f}"
    if stage == "stt":
        from assistant.voice.stt import WhisperSpeechToText

        stt = WhisperSpeechToText(models.resolve_stt("tiny.en"), config.SttConfig(), "en")
        stt.load()
        text = stt.transcribe(audio)
        assert "kitchen" in text.lower(), f"heard {text!r}"
        return f"text={text!r}"
    if stage == "llm":
        from assistant.understanding.language_model import LlamaCppModel

        llm = LlamaCppModel(models.resolve_llm("smollm2-135m"), config.LlmConfig())
        llm.load()
        text = "".join(llm.stream([{"role": "user", "content": "Name a colour."}], 12, 60.0))
        assert text.strip(), "no text generated"
        return f"text={text.strip()[:30]!r}"
    from assistant.voice.tts import PiperTextToSpeech

    tts = PiperTextToSpeech(models.resolve_tts("en_US-joe-medium"), config.TtsConfig())
    tts.load()
    speech = np.concatenate(list(tts.sentences("Turned on the kitchen light.")))
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    assert rms > 300, f"near silent (RMS {rms:.0f})"
    return f"audio_s={len(speech) / tts.sample_rate_hz:.2f}"


def _matrix(wav: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from sandbox import OPTIONS

    unit = ["--unit", str(ROOT / "systemd" / "hearth.service")]
    variants: list[tuple[str, list[str] | None]] = [("(none)", None)]
    # a dynamic user cannot reach an interpreter in /root without ProtectHome's re-exposure
    variants += [
        (option, ["--only", f"{option},ProtectHome" if option == "DynamicUser" else option])
        for option in OPTIONS
    ]
    variants += [
        ("unit", unit),
        ("unit +MemoryDenyWriteExecute", [*unit, "--add", "MemoryDenyWriteExecute"]),
        ("unit +ProcSubset=pid", [*unit, "--add", "ProcSubset"]),
        ("unit +SystemCallFilter=~@privileged", [*unit, "--syscall-filter", "~@privileged"]),
        ("unit +SystemCallFilter=~@resources", [*unit, "--syscall-filter", "~@resources"]),
    ]
    print(f"{'options':38} " + " ".join(f"{s:5}" for s in STAGES), flush=True)
    for name, sandbox_args in variants:
        cells = []
        for stage in STAGES:
            cmd = [sys.executable, __file__, stage, str(wav)]
            if sandbox_args is not None:
                sandbox = [sys.executable, str(ROOT / "scripts" / "sandbox.py"), *sandbox_args]
                cmd = [*sandbox, "--ro", str(wav), "--", *cmd]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            cells.append("ok" if done.returncode == 0 else "FAIL")
            if done.returncode != 0:
                last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["(no output)"]
                print(f"    {name} / {stage}: {last[0][:150]}", flush=True)
        print(f"{name:38} " + " ".join(f"{c:5}" for c in cells), flush=True)


def main() -> int:
    if sys.argv[1] == "--matrix":
        _matrix(Path(sys.argv[2]).resolve())
        return 0
    stage = sys.argv[1]
    try:
        print(f"ok {stage} {_probe(stage, _read(Path(sys.argv[2])))}")
    except Exception as err:  # any failure of the runtime is the answer here
        print(f"fail {stage} {type(err).__name__}: {str(err).splitlines()[0][:200]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
