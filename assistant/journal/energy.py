"""Energy and cost of a turn: measured with Intel RAPL where readable, else estimated.

RAPL (Running Average Power Limit) counters live in ``/sys/class/powercap/intel-rapl:N/``:
``energy_uj`` is a running total in microjoules for a CPU package, which wraps around to zero
after ``max_energy_range_uj``. A turn's energy is the difference between two readings, summed
over the packages. It covers everything the package did in that time, not Hearth alone.

Without RAPL (ARM boards, virtual machines, or a counter readable only by root), the energy is
estimated from the CPU time the process used: a machine draws ``watts_idle`` doing nothing and
``watts_busy`` with every core busy, so one CPU second costs ``(watts_busy - watts_idle) / cores``
joules on top of idle. The method used is recorded with every figure.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from ..config import EnergyConfig

__all__ = [
    "CloudUsage",
    "EnergyMeter",
    "EnergyMethod",
    "Mark",
    "RaplReader",
    "cloud_cost",
    "estimate_wh",
]

_LOGGER = logging.getLogger(__name__)

_J_PER_WH: Final = 3600.0
_CHARS_PER_TOKEN: Final = 4.0  # a common rule of thumb for English text
_SPOKEN_CHARS_PER_S: Final = 14.0  # for replies that were not synthesised (hearth ask)


class EnergyMethod(StrEnum):
    RAPL = "rapl"  # measured: Intel RAPL package energy counters
    ESTIMATE = "estimate"  # CPU seconds times the configured watts


@dataclass(frozen=True, slots=True)
class _Zone:
    name: str
    energy: Path
    max_range_uj: int


class RaplReader:
    """The package-level RAPL zones under ``root`` (``intel-rapl:0``, ``intel-rapl:1`` …).

    All or nothing: if one package cannot be read (since 2020 kernels let only root read
    ``energy_uj``), none is used, so a figure never silently leaves a package out."""

    def __init__(self, root: Path) -> None:
        self._zones: list[_Zone] = []
        for folder in sorted(root.glob("intel-rapl:*")):
            if folder.name.count(":") != 1:  # intel-rapl:0:0 and deeper are sub-zones
                continue
            try:
                name = (folder / "name").read_text(encoding="ascii").strip()
                max_range = int((folder / "max_energy_range_uj").read_text(encoding="ascii"))
                int((folder / "energy_uj").read_text(encoding="ascii"))
            except (OSError, ValueError) as err:
                _LOGGER.debug("RAPL zone %s not readable: %s", folder, err)
                self._zones = []
                return
            self._zones.append(_Zone(name, folder / "energy_uj", max_range))

    @property
    def available(self) -> bool:
        return bool(self._zones)

    @property
    def zones(self) -> list[str]:
        return [zone.name for zone in self._zones]

    def read_uj(self) -> tuple[int, ...] | None:
        """Each zone's counter in microjoules, or ``None`` if one cannot be read now."""
        try:
            return tuple(int(z.energy.read_text(encoding="ascii")) for z in self._zones)
        except (OSError, ValueError):
            return None

    def joules_between(self, before: tuple[int, ...], after: tuple[int, ...]) -> float:
        """Energy between two readings, in joules; a counter that wrapped is unwrapped once."""
        total_uj = 0
        for zone, start, end in zip(self._zones, before, after, strict=True):
            step = end - start
            if step < 0:
                step += zone.max_range_uj + 1
            total_uj += step
        return total_uj / 1e6


def estimate_wh(cpu_s: float, config: EnergyConfig) -> float:
    """Watt-hours above idle for ``cpu_s`` seconds of CPU time (all threads together)."""
    cores = config.cores or os.cpu_count() or 1
    watts_per_core = max(0.0, config.watts_busy - config.watts_idle) / cores
    return cpu_s * watts_per_core / _J_PER_WH


@dataclass(frozen=True, slots=True)
class Mark:
    """The counters at the start of a span."""

    cpu_s: float
    rapl_uj: tuple[int, ...] | None


class EnergyMeter:
    """Measures spans of work: RAPL where configured and readable, else the estimate."""

    def __init__(self, config: EnergyConfig) -> None:
        self._config = config
        self._rapl: RaplReader | None = None
        if config.method != "estimate":
            reader = RaplReader(Path(config.powercap_dir))
            if reader.available and reader.read_uj() is not None:
                self._rapl = reader
            elif config.method == "rapl":
                _LOGGER.warning(
                    "energy.method is rapl but no readable RAPL counter under %s; "
                    "estimating from CPU time instead",
                    config.powercap_dir,
                )

    @property
    def method(self) -> EnergyMethod:
        return EnergyMethod.RAPL if self._rapl is not None else EnergyMethod.ESTIMATE

    def mark(self, cpu_s: float) -> Mark:
        return Mark(cpu_s, self._rapl.read_uj() if self._rapl is not None else None)

    def since(self, start: Mark, cpu_s: float) -> tuple[float, EnergyMethod]:
        """Watt-hours since ``start`` and how they were found."""
        if self._rapl is not None and start.rapl_uj is not None:
            now = self._rapl.read_uj()
            if now is not None:
                return self._rapl.joules_between(start.rapl_uj, now) / _J_PER_WH, EnergyMethod.RAPL
        return estimate_wh(max(0.0, cpu_s - start.cpu_s), self._config), EnergyMethod.ESTIMATE

    def estimate(self, cpu_s: float) -> float:
        return estimate_wh(cpu_s, self._config)


@dataclass(frozen=True, slots=True)
class CloudUsage:
    """What one turn would have sent to a cloud speech and language service."""

    speech_s: float  # audio sent to speech-to-text
    prompt_chars: int  # what the user said (the service's own prompt is added per turn)
    reply_chars: int
    reply_audio_s: float  # spoken reply; 0 when it was not synthesised


def cloud_cost(usage: CloudUsage, config: EnergyConfig) -> float:
    """Price of one turn through cloud speech-to-text, a language model and text-to-speech, in
    ``energy.currency`` at the configured prices."""
    stt = usage.speech_s / 60 * config.cloud_stt_per_minute
    tokens_in = config.cloud_llm_prompt_tokens + usage.prompt_chars / _CHARS_PER_TOKEN
    tokens_out = usage.reply_chars / _CHARS_PER_TOKEN
    llm = (
        tokens_in * config.cloud_llm_input_per_mtok + tokens_out * config.cloud_llm_output_per_mtok
    ) / 1e6
    audio_s = usage.reply_audio_s or usage.reply_chars / _SPOKEN_CHARS_PER_S
    tts = audio_s / 60 * config.cloud_tts_per_minute
    return stt + llm + tts
