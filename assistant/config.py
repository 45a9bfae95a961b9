"""Configuration: one TOML file, parsed once into frozen, validated models.

Resolution order: ``--config``, ``$HEARTH_CONFIG``, ``~/.config/hearth/config.toml``,
``/etc/hearth/config.toml``; with none, every key has a working default (the embedded models).
Unknown keys are errors. Each component receives only its own section.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

__all__ = [
    "AssistantConfig",
    "AudioConfig",
    "Config",
    "EntityConfig",
    "ExposeConfig",
    "LlmConfig",
    "MqttConfig",
    "SttConfig",
    "TtsConfig",
    "VadConfig",
    "WakeConfig",
    "default_config_paths",
    "load_config",
    "parse_config",
]

_NODE_ID_RE = re.compile(r"^[a-z0-9_-]+$")


def default_node_id() -> str:
    """The host name, lower-case, reduced to ``[a-z0-9_-]``."""
    name = re.sub(r"[^a-z0-9_-]+", "_", socket.gethostname().split(".")[0].lower()).strip("_")
    return name or "hearth"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class AssistantConfig(_Section):
    name: str = Field("Hearth", description="What the assistant calls itself.")
    language: str = Field("en", description="Language of templates, recognition and voice.")
    node_id: str = Field(default_factory=default_node_id, description="MQTT base hearth/<node_id>.")
    data_dir: str = Field(
        "",
        description="Where lists and other files are kept; default $STATE_DIRECTORY or "
        "~/.local/state/hearth.",
    )
    profile: str = Field("", description="The profile in use at start; empty: none.")

    @field_validator("node_id")
    @classmethod
    def _node_id_chars(cls, value: str) -> str:
        if not _NODE_ID_RE.match(value):
            raise ValueError("use only lower-case letters, digits, '_' and '-'")
        return value


class AudioConfig(_Section):
    input_device: str | int | None = Field(None, description="sounddevice name or index.")
    output_device: str | int | None = Field(None, description="sounddevice name or index.")
    pre_roll_s: float = Field(
        0.16, ge=0.0, le=3.0, description="Audio kept from before the wake word fired."
    )


class WakeConfig(_Section):
    model: str = Field("hey_jarvis", description="Bundled name or path to a .tflite/.onnx model.")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Score that counts as a wake-up.")
    refractory_s: float = Field(2.0, ge=0.0, le=30.0, description="Ignore wake-ups this long.")


class VadConfig(_Section):
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Silero speech probability.")
    silence_s: float = Field(0.7, gt=0.0, le=5.0, description="Silence that ends a command.")
    no_speech_s: float = Field(5.0, gt=0.0, le=30.0, description="Give up if nothing is said.")
    max_command_s: float = Field(15.0, gt=1.0, le=60.0, description="Cut a command this long.")
    early_match_s: float = Field(
        0.3,
        ge=0.0,
        le=5.0,
        description="After this much silence, transcribe and end early on a complete template "
        "match (0 turns it off).",
    )


class SttConfig(_Section):
    model: str = Field("tiny.en", description="Bundled name or a CTranslate2 Whisper folder.")
    compute_type: str = Field("int8", description="CTranslate2 compute type.")
    threads: int = Field(2, ge=1, le=64, description="CPU threads for CTranslate2.")
    beam_size: int = Field(1, ge=1, le=10)


class ExposeConfig(_Section):
    """Which discovered entities voice may use; empty lists mean no limit. Entities declared in
    ``[[entities]]`` are always exposed."""

    areas: tuple[str, ...] = Field((), description="Only entities in these areas.")
    domains: tuple[str, ...] = Field((), description="Only these domains (light, switch, ...).")
    entities: tuple[str, ...] = Field((), description="Only these entity ids.")
    exclude: tuple[str, ...] = Field((), description="Never these entity ids.")


class LlmConfig(_Section):
    """The local language model: router layer 2 (tool calls) and layer 3 (free answers)."""

    enabled: bool = Field(True, description="false: sentence templates only.")
    model: str = Field("smollm2-135m", description="Bundled name or path to a GGUF file.")
    chat_format: str = Field("", description="llama.cpp chat format; empty: from the GGUF.")
    n_ctx: int = Field(2048, ge=256, le=131072, description="Context window, tokens.")
    n_threads: int = Field(2, ge=1, le=64, description="CPU threads for llama.cpp.")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(120, ge=8, le=4096, description="Longest free answer, tokens.")
    timeout_s: float = Field(20.0, gt=0.0, le=600.0, description="Deadline for one answer.")
    system_prompt: str = Field("", description="Extra instructions for free answers.")


class RouterConfig(_Section):
    sentences_dir: str = Field("", description="Folder of your own hassil sentence files (.yaml).")
    skills_dir: str = Field("", description="Folder of your own skill modules (.py).")


class ConversationConfig(_Section):
    timeout_s: float = Field(
        300.0, gt=0.0, le=86400.0, description="Follow-up turns within this share history."
    )
    confirm_timeout_s: float = Field(
        8.0, gt=0.0, le=60.0, description="How long a yes to a sensitive action may take."
    )


class ProfileConfig(_Section):
    """A persona: its own instructions, the skills and devices it may use, its LLM settings."""

    description: str = ""
    system_prompt: str = ""
    skills: tuple[str, ...] = Field((), description="Skill names it may use; empty: all.")
    expose: ExposeConfig = Field(default_factory=ExposeConfig)  # type: ignore[arg-type]
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=8, le=4096, description="Longest answer, tokens.")


class TtsConfig(_Section):
    voice: str = Field("en_US-joe-medium", description="Bundled name or path to a Piper .onnx.")
    speaker_id: int | None = Field(None, ge=0)
    length_scale: float | None = Field(None, gt=0.1, le=5.0, description="Speaking slowness.")
    noise_scale: float | None = Field(None, ge=0.0, le=2.0, description="Generator noise.")
    noise_w_scale: float | None = Field(None, ge=0.0, le=2.0, description="Timing noise.")
    threads: int = Field(1, ge=1, le=64, description="onnxruntime threads for Piper.")
    cache_replies: int = Field(64, ge=0, le=10000, description="Synthesised replies kept.")


class MqttConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str = ""
    password_file: str = Field("", description="File whose first line is the password.")
    client_id: str = Field("", description="Defaults to hearth-<node_id>.")
    discovery_prefix: str = "homeassistant"
    command_ttl_s: float = Field(
        10.0, gt=0.0, le=3600.0, description="A command not delivered by then is dropped."
    )
    keepalive_s: int = Field(60, ge=5, le=3600)
    protocol: Literal["3.1.1", "5"] = Field("3.1.1", description="MQTT protocol version.")
    tls: bool = Field(False, description="Connect with TLS (port 8883 is usual).")
    ca_file: str = Field("", description="CA certificate(s) to trust; empty: the system's.")
    cert_file: str = Field("", description="Client certificate, for brokers that ask for one.")
    key_file: str = Field("", description="The client certificate's private key.")
    queue_size: int = Field(100, ge=1, le=10000, description="Commands kept while offline.")
    announce: bool = Field(True, description="Announce Hearth through MQTT discovery.")


Domain = Literal[
    "light", "switch", "fan", "cover", "lock", "climate", "sensor", "binary_sensor", "scene"
]

ColorMode = Literal[
    "onoff", "brightness", "color_temp", "hs", "xy", "rgb", "rgbw", "rgbww", "white"
]


class EntityConfig(_Section):
    """A device declared by hand, with the fields of Home Assistant MQTT discovery."""

    domain: Domain
    name: str = Field(min_length=1)
    unique_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    command_topic: str = ""
    state_topic: str = ""
    payload_on: str = "ON"
    payload_off: str = "OFF"
    schema_: Literal["default", "json"] = Field("default", alias="schema")
    brightness_command_topic: str = ""
    brightness_scale: int = Field(255, ge=1, le=65535)
    device_class: str = ""
    suggested_area: str = ""
    aliases: tuple[str, ...] = ()
    # Optional keys for the other components, with Home Assistant's names and defaults.
    json_attributes_topic: str = ""
    on_command_type: Literal["last", "first", "brightness"] = Field(
        "last", description="Light: send payload_on after, before or instead of the brightness."
    )
    brightness_command_template: str = Field("", description="Only {{ value }} placeholders.")
    supported_color_modes: tuple[ColorMode, ...] = Field(
        (), description="Light, json schema: its colour modes; rgb, rgbw, rgbww, hs or xy: colour."
    )
    rgb_command_topic: str = Field("", description="Light, default schema: where R,G,B goes.")
    rgb_command_template: str = Field(
        "", description="{{ value }} (R,G,B), {{ red }}, {{ green }}, {{ blue }} placeholders."
    )
    command_template: str = Field("", description="Switch, fan, lock: shapes the payload.")
    percentage_command_topic: str = Field("", description="Fan: where a speed goes.")
    percentage_command_template: str = ""
    speed_range_min: int = Field(1, ge=1, le=1_000_000, description="Fan speed sent for 1 %.")
    speed_range_max: int = Field(100, ge=2, le=1_000_000, description="Fan speed for 100 %.")
    payload_open: str = Field("OPEN", description="Cover; empty: the cover can't open.")
    payload_close: str = Field("CLOSE", description="Cover; empty: the cover can't close.")
    payload_stop: str = Field("STOP", description="Cover; empty: the cover can't stop.")
    set_position_topic: str = Field("", description="Cover: where a position goes.")
    set_position_template: str = ""
    position_open: int = Field(100, ge=-1_000_000, le=1_000_000, description="Fully open.")
    position_closed: int = Field(0, ge=-1_000_000, le=1_000_000, description="Closed.")
    payload_lock: str = "LOCK"
    payload_unlock: str = "UNLOCK"
    temperature_command_topic: str = Field("", description="Climate: target temperature.")
    temperature_command_template: str = ""
    min_temp: float = Field(7.0, ge=-1000, le=1000, description="Lowest target, device unit.")
    max_temp: float = Field(35.0, ge=-1000, le=1000, description="Highest target, device unit.")
    temp_step: float = Field(1.0, ge=0.001, le=100, description="Target resolution.")
    mode_command_topic: str = Field("", description="Climate: where an HVAC mode goes.")
    mode_command_template: str = ""
    modes: tuple[str, ...] = ("auto", "off", "cool", "heat", "dry", "fan_only")
    unit_of_measurement: str = ""
    value_template: str = Field("", description="Kept for reference; Hearth doesn't render it.")

    @field_validator("command_topic", "brightness_command_topic")
    @classmethod
    def _no_wildcards(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a command topic cannot contain MQTT wildcards")
        return value

    @field_validator(
        "percentage_command_topic",
        "rgb_command_topic",
        "set_position_topic",
        "temperature_command_topic",
        "mode_command_topic",
    )
    @classmethod
    def _no_wildcards_in_other_topics(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a command topic cannot contain MQTT wildcards")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> EntityConfig:
        if self.speed_range_min >= self.speed_range_max:
            raise ValueError("speed_range_min must be below speed_range_max")
        if self.min_temp > self.max_temp:
            raise ValueError("min_temp must not be above max_temp")
        return self


class Config(_Section):
    assistant: AssistantConfig = Field(default_factory=AssistantConfig)  # type: ignore[arg-type]
    audio: AudioConfig = Field(default_factory=AudioConfig)  # type: ignore[arg-type]
    wake: WakeConfig = Field(default_factory=WakeConfig)  # type: ignore[arg-type]
    vad: VadConfig = Field(default_factory=VadConfig)  # type: ignore[arg-type]
    stt: SttConfig = Field(default_factory=SttConfig)  # type: ignore[arg-type]
    llm: LlmConfig = Field(default_factory=LlmConfig)  # type: ignore[arg-type]
    tts: TtsConfig = Field(default_factory=TtsConfig)  # type: ignore[arg-type]
    mqtt: MqttConfig = Field(default_factory=MqttConfig)  # type: ignore[arg-type]
    expose: ExposeConfig = Field(default_factory=ExposeConfig)  # type: ignore[arg-type]
    router: RouterConfig = Field(default_factory=RouterConfig)  # type: ignore[arg-type]
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)  # type: ignore[arg-type]
    profiles: dict[str, ProfileConfig] = Field(default_factory=dict)
    skills: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="[skills.NAME]: settings of one skill, its own keys."
    )
    entities: tuple[EntityConfig, ...] = ()

    @field_validator("entities")
    @classmethod
    def _unique_ids(cls, value: tuple[EntityConfig, ...]) -> tuple[EntityConfig, ...]:
        seen: set[str] = set()
        for entity in value:
            if entity.unique_id in seen:
                raise ValueError(f"unique_id {entity.unique_id!r} is declared twice")
            seen.add(entity.unique_id)
        return value


def default_config_paths() -> list[Path]:
    """Where a configuration is looked for when ``--config`` is not given."""
    paths = []
    if env := os.environ.get("HEARTH_CONFIG"):
        paths.append(Path(env))
    paths.append(Path.home() / ".config" / "hearth" / "config.toml")
    paths.append(Path("/etc/hearth/config.toml"))
    return paths


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item + 1}]")
        else:
            parts.append(("." if parts else "") + ("schema" if item == "schema_" else str(item)))
    return "".join(parts)


def parse_config(data: Mapping[str, Any], source: str = "configuration") -> Config:
    """Validate a TOML document; raises :class:`ConfigError` naming the first bad keys."""
    try:
        return Config.model_validate(dict(data))
    except ValidationError as err:
        problems = []
        for item in err.errors():
            key = _key_path(item["loc"])
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown key '{key}' (remove it or check its spelling)")
            else:
                got = item.get("input")
                shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
                problems.append(f"'{key}': {item['msg']}{shown}")
        shown_problems = "; ".join(problems[:3])
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise ConfigError("bad_config", f"{source}: {shown_problems}{more}") from None


def load_config(path: str | Path | None = None) -> tuple[Config, Path | None]:
    """Load the configuration; returns it with the file it came from (``None``: defaults)."""
    if path is not None:
        candidates = [Path(path)]
        if not candidates[0].is_file():
            raise ConfigError(
                "config_missing",
                f"{path}: configuration file not found; check the path given to --config",
            )
    else:
        candidates = [p for p in default_config_paths() if p.is_file()]
        env = os.environ.get("HEARTH_CONFIG")
        if env and not Path(env).is_file():
            raise ConfigError(
                "config_missing",
                f"{env}: configuration file named by $HEARTH_CONFIG not found",
            )
    if not candidates:
        return Config(), None
    chosen = candidates[0]
    try:
        text = chosen.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError("config_unreadable", f"{chosen}: cannot read: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config_syntax", f"{chosen}: not valid TOML: {err}") from None
    return parse_config(data, str(chosen)), chosen
