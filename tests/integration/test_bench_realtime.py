"""`hearth bench --realtime` end to end: its own mosquitto, a real `hearth run --input -`, two
held-out utterances at real time; the JSON it writes. Times are reported, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.tools.bench_speech import make_utterances, speech_end_sample


def test_held_out_utterances_keep_the_true_end_of_speech() -> None:
    wake = np.zeros(8000, dtype=np.float32)
    spoken = make_utterances(2, lambda text: np.zeros(1600, dtype=np.float32), wake)
    for one in spoken:
        audio = one.audio.astype(np.float32) / 32768.0
        assert one.voice.startswith("espeak")
        assert 0.8 * 16000 + len(wake) < one.speech_end < len(audio) - 2.5 * 16000
        # after the end only room noise and the room's echo remain: far quieter than speech
        speech = audio[one.speech_end - 8000 : one.speech_end]
        after = audio[one.speech_end + 8000 : one.speech_end + 16000]
        assert np.sqrt(np.mean(after**2)) < 0.3 * np.sqrt(np.mean(speech**2))
        assert speech_end_sample(audio) >= one.speech_end - 16000 // 50


def test_realtime_bench_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "realtime.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    hearth = Path(sys.executable).with_name("hearth")
    done = subprocess.run(
        [str(hearth), "bench", "--realtime", "--runs", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "from the true end of speech" in done.stdout
    report = json.loads(out.read_text())
    assert report["hearth"]["utterances"] == 2
    assert [u["voice"] for u in report["utterances"]] == ["espeak en-us", "espeak en-gb female"]
    woke = [u for u in report["utterances"] if u["end_reason"] != "no_wake"]
    assert woke, report["utterances"]
    for one in woke:
        assert one["transcript"]
        assert one["to_first_audio_ms"] is not None  # every turn that woke says something
    assert report["conditions"]["cpu_hog"] == "none"


@pytest.mark.soak
def test_realtime_bench_runs_the_home_assistant_chain_beside_hearth(tmp_path: Path) -> None:
    """With --ha: the Wyoming servers from their own virtual environment (set up on first use),
    the same utterance through both chains, and a ratio."""
    out = tmp_path / "realtime-ha.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    hearth = Path(sys.executable).with_name("hearth")
    done = subprocess.run(
        [str(hearth), "bench", "--realtime", "--ha", "--runs", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    runs = report["peer"]["runs"]
    assert [r["command"] for r in runs] == [u["command"] for u in report["utterances"]]
    assert all(r["transcript"] and r["to_first_audio_ms"] is not None for r in runs)
    assert set(report["ratio"]) == {"to_publish_median", "to_first_audio_median"}
