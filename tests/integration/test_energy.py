"""Energy and cost: the RAPL reader on a powercap folder laid out as the kernel does (with a
counter that wraps), the CPU-time estimate measured for real, the cloud price arithmetic, and the
daily sensors arriving through discovery on a real broker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from broker import Broker, Recorder
from hearth_cli import run_hearth, write_config

from assistant.config import EnergyConfig
from assistant.journal.energy import (
    CloudUsage,
    EnergyMeter,
    EnergyMethod,
    RaplReader,
    cloud_cost,
    estimate_wh,
)

MAX_RANGE_UJ = 262143328850  # as an Intel package reports it


def _zone(root: Path, name: str, label: str, energy_uj: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "name").write_text(f"{label}\n")
    (folder / "max_energy_range_uj").write_text(f"{MAX_RANGE_UJ}\n")
    (folder / "energy_uj").write_text(f"{energy_uj}\n")
    return folder / "energy_uj"


def _powercap(root: Path) -> tuple[Path, Path]:
    package0 = _zone(root, "intel-rapl:0", "package-0", MAX_RANGE_UJ - 1_000_000)
    package1 = _zone(root, "intel-rapl:1", "package-1", 5_000_000)
    _zone(root, "intel-rapl:0:0", "core", 42)  # a sub-zone: already inside package-0
    (root / "dtpm").mkdir()
    return package0, package1


def test_rapl_packages_are_summed_and_a_wrapped_counter_unwrapped(tmp_path: Path) -> None:
    package0, package1 = _powercap(tmp_path)
    reader = RaplReader(tmp_path)
    assert reader.available and reader.zones == ["package-0", "package-1"]
    before = reader.read_uj()
    assert before == (MAX_RANGE_UJ - 1_000_000, 5_000_000)
    package0.write_text("2000000\n")  # wrapped: 1 J to the top, 1 more J past zero, then 2 J
    package1.write_text("8500000\n")  # 3.5 J
    after = reader.read_uj()
    assert after is not None
    assert reader.joules_between(before, after) == pytest.approx(1.000001 + 2.0 + 3.5)


def test_the_meter_uses_rapl_where_readable_and_says_so(tmp_path: Path) -> None:
    package0, _package1 = _powercap(tmp_path)
    meter = EnergyMeter(EnergyConfig(powercap_dir=str(tmp_path)))
    assert meter.method is EnergyMethod.RAPL
    start = meter.mark(time.process_time())
    package0.write_text(f"{MAX_RANGE_UJ - 1_000_000 + 7_200_000}\n")  # 7.2 J = 2 mWh
    wh, method = meter.since(start, time.process_time())
    assert method is EnergyMethod.RAPL and wh == pytest.approx(7.2 / 3600)

    forced = EnergyMeter(EnergyConfig(powercap_dir=str(tmp_path), method="estimate"))
    assert forced.method is EnergyMethod.ESTIMATE
    package0.write_text("not a number\n")
    broken = EnergyMeter(EnergyConfig(powercap_dir=str(tmp_path)))
    assert broken.method is EnergyMethod.ESTIMATE


def test_without_rapl_the_estimate_follows_the_cpu_time_really_used(tmp_path: Path) -> None:
    config = EnergyConfig(powercap_dir=str(tmp_path / "none"), watts_idle=2.0, watts_busy=10.0)
    meter = EnergyMeter(config)
    assert meter.method is EnergyMethod.ESTIMATE
    start_cpu = time.process_time()
    start = meter.mark(start_cpu)
    total = 0
    while time.process_time() - start_cpu < 0.2:  # real work, all of it on this thread
        total += sum(i * i for i in range(2000))
    end_cpu = time.process_time()
    wh, method = meter.since(start, end_cpu)
    used_s = end_cpu - start_cpu
    assert method is EnergyMethod.ESTIMATE and total > 0
    assert wh == pytest.approx(used_s * (10.0 - 2.0) / (os.cpu_count() or 1) / 3600)
    assert estimate_wh(2 * used_s, config) == pytest.approx(2 * wh)
    assert estimate_wh(used_s, EnergyConfig(cores=1, watts_idle=2.0, watts_busy=10.0)) == (
        pytest.approx(wh * (os.cpu_count() or 1))
    )


def test_cloud_cost_adds_up_the_three_services() -> None:
    config = EnergyConfig()
    usage = CloudUsage(speech_s=3.0, prompt_chars=40, reply_chars=28, reply_audio_s=1.5)
    base = cloud_cost(usage, config)
    longer = cloud_cost(CloudUsage(63.0, 40, 28, 1.5), config)
    assert longer - base == pytest.approx(config.cloud_stt_per_minute)
    spoken = cloud_cost(CloudUsage(3.0, 40, 28, 61.5), config)
    assert spoken - base == pytest.approx(config.cloud_tts_per_minute)
    free = EnergyConfig(cloud_stt_per_minute=0, cloud_tts_per_minute=0)
    tokens = config.cloud_llm_prompt_tokens + 10
    assert cloud_cost(usage, free) == pytest.approx(
        (tokens * config.cloud_llm_input_per_mtok + 7 * config.cloud_llm_output_per_mtok) / 1e6
    )


def test_daily_sensors_arrive_through_discovery(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    extra = f'\n[journal]\npath = "{tmp_path / "journal.sqlite"}"\n\n[energy]\ncurrency = "EUR"\n'
    config = write_config(tmp_path, broker.port, node_id="energytest", extra=extra)
    asked = run_hearth("ask", "--config", str(config), "turn on the kitchen light")
    assert asked.returncode == 0, asked.stderr
    prefix = "homeassistant/sensor/hearth_energytest"
    found = {
        name: recorder.wait_for(f"{prefix}/{name}/config")
        for name in ("energy_today", "cost_today", "cloud_cost_today", "turns_today")
    }
    configs = {name: json.loads(payloads[-1]) for name, payloads in found.items() if payloads}
    assert set(configs) == set(found)
    energy = configs["energy_today"]
    assert energy["device_class"] == "energy" and energy["unit_of_measurement"] == "kWh"
    assert energy["state_class"] == "total_increasing"
    for money in ("cost_today", "cloud_cost_today"):
        assert configs[money]["device_class"] == "monetary"
        assert configs[money]["unit_of_measurement"] == "EUR"
    for body in configs.values():
        assert body["state_topic"] == "hearth/energytest/energy"
        # the whole device block, with its name (Home Assistant logs a line per entity without)
        assert body["device"]["identifiers"] == ["hearth_energytest"]
        assert body["device"]["name"] == "Hearth energytest"
        assert body["unique_id"].startswith("hearth_energytest_")
        assert body["default_entity_id"] == f"sensor.{body['unique_id']}"
    retained = [
        json.loads(p) for t, p, r in recorder.messages if t == "hearth/energytest/energy" and r
    ] or [json.loads(p) for p in recorder.wait_for("hearth/energytest/energy")]
    state = retained[-1]
    assert state["day"] == time.strftime("%Y-%m-%d") and state["turns"] >= 1
    assert state["energy_kwh"] > 0 and state["cloud_cost"] > 0 and state["currency"] == "EUR"
    assert state["method"] in ("estimate", "rapl")
    price = EnergyConfig().price_per_kwh
    assert state["cost"] == pytest.approx(state["energy_kwh"] * price, abs=1e-9)


def test_no_daily_sensors_are_announced_with_announce_false(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    """``mqtt.announce = false``: nothing appears in Home Assistant; the figures still go out."""
    extra = f'announce = false\n\n[journal]\npath = "{tmp_path / "journal.sqlite"}"\n'
    config = write_config(tmp_path, broker.port, node_id="quietnode", extra=extra)
    asked = run_hearth("ask", "--config", str(config), "turn on the kitchen light")
    assert asked.returncode == 0, asked.stderr
    assert recorder.wait_for("hearth/quietnode/energy")
    recorder.wait_for("hearth/quietnode/availability", 2)
    announced = [t for t, _, _ in recorder.messages if t.startswith("homeassistant/")]
    assert [t for t in announced if "hearth_quietnode" in t] == []
