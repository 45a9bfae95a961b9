"""Configuration: one TOML file, parsed once into frozen, validated models.

Resolution order: ``--config``, ``$HEARTH_CONFIG``, ``~/.config/hearth/config.toml``,
``/etc/hearth/config.toml``; with none, every key has a working default (the embedded models).
Unknown keys are errors. Each component receives only its own section.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import ConfigError

__all__ = [
    "AssistantConfig",
    "AudioConfig",
    "Config",
    "EnergyConfig",
    "EntityConfig",
    "ExposeConfig",
    "JournalConfig",
    "LlmConfig",
    "MqttConfig",
    "PrivacyConfig",
    "SttConfig",
    "TtsConfig",
    "VadConfig",
    "WakeConfig",
    "data_dir",
    "default_config_paths",
    "load_config",
    "parse_config",
]

_NODE_ID_RE = re.compile(r"^[a-z0-9_-]+$")


def default_node_id() -> str:
    """The host name, lower-case, reduced to ``[a-z0-9_-]``."""
    name = re.sub(r"[^a-z0-9_-]+", "_", socket.gethostname().split(".")[0].lower()).strip("_")
    return name or "hearth"


_SCALAR_NAMES: Final = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
}


def _scalar_types(annotation: Any) -> frozenset[type] | None:
    """The TOML scalar types a field takes (an integer fits a float field); an empty set for
    tables and arrays, ``None`` where pydantic alone decides."""
    if annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return frozenset(type(choice) for choice in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _scalar_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found: set[type] = set()
        for member in typing.get_args(annotation):
            kinds = _scalar_types(member)
            if kinds is None:
                return None
            found |= kinds
        return frozenset(found)
    if annotation is float:
        return frozenset({float, int})
    if annotation in _SCALAR_NAMES:
        return frozenset({annotation})
    if (
        annotation is type(None)  # TOML has no null: such a key is left out
        or origin in (tuple, list, dict)
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return frozenset()
    return None  # another type (a path, an enum): pydantic decides


def _scalar_type(value: bool | int | float | str) -> type:
    return next(kind for kind in (bool, int, float, str) if isinstance(value, kind))


def _looks_like(text: str, kind: type) -> bool:
    try:
        kind(text.strip())
    except ValueError:
        return False
    return True


def _type_message(value: bool | int | float | str, kinds: frozenset[type], annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if not kinds:
        wanted = "an array [...]" if origin in (tuple, list) else "a table"
    elif origin is Literal:
        wanted = "one of " + ", ".join(_toml_scalar(c) for c in typing.get_args(annotation))
    elif float in kinds:
        wanted = "a number"
    else:
        wanted = " or ".join(name for kind, name in _SCALAR_NAMES.items() if kind in kinds)
    got = _scalar_type(value)
    unquote = isinstance(value, str) and any(
        _looks_like(value, kind) for kind in (int, float) if kind in kinds
    )
    shown = {bool: "true/false", int: "a whole number", float: "a decimal number", str: "text"}
    return f"expected {wanted}, not {shown[got]}" + ("; write it without quotes" if unquote else "")


def _toml_scalar(value: Any) -> str:
    """A value as it would be written in TOML (``true``, ``"text"``, ``0.5``), kept short."""
    if isinstance(value, bool | int | float | str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 60 else shown[:57] + "..."
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _toml_type(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse a TOML value of the wrong type instead of converting it (``port = true``,
        ``threshold = "0.5"``, ``enabled = 1``)."""
        if isinstance(value, bool | int | float | str) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            kinds = _scalar_types(annotation)
            if kinds is not None and _scalar_type(value) not in kinds:
                raise PydanticCustomError("toml_type", _type_message(value, kinds, annotation))
        return value


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


_DeviceIndex = Annotated[int, Field(ge=0, le=9999)]  # as `hearth devices` lists them


class AudioConfig(_Section):
    input_device: str | _DeviceIndex | None = Field(None, description="sounddevice name or index.")
    output_device: str | _DeviceIndex | None = Field(None, description="sounddevice name or index.")
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
    thinking_cue_s: float = Field(
        3.0, ge=0.0, le=600.0, description='Say "still thinking" after this long; 0: never.'
    )
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


class JournalConfig(_Section):
    """The interaction journal: one row per turn in a SQLite file in the data directory."""

    enabled: bool = Field(True, description="false: nothing about turns is kept.")
    keep_days: int = Field(30, ge=1, le=3650, description="Turns older than this are deleted.")
    keep_audio: bool = Field(
        False, description="Keep each command's audio as a WAV file beside the journal."
    )
    audio_keep_days: int = Field(7, ge=1, le=3650, description="Audio older than this is deleted.")
    path: str = Field("", description="The journal file; default <data_dir>/journal.sqlite.")


class EnergyConfig(_Section):
    """Energy and cost. Defaults: a Raspberry Pi 5 and US prices; see the README for sources."""

    method: Literal["auto", "rapl", "estimate"] = Field(
        "auto", description="auto: Intel RAPL where readable, else the CPU-time estimate."
    )
    powercap_dir: str = Field("/sys/class/powercap", description="Where RAPL counters are read.")
    watts_idle: float = Field(3.1, ge=0.0, le=2000.0, description="Whole machine doing nothing.")
    watts_busy: float = Field(9.0, ge=0.0, le=5000.0, description="Whole machine, all cores busy.")
    cores: int = Field(0, ge=0, le=1024, description="CPU cores; 0: as the system reports.")
    price_per_kwh: float = Field(0.16, ge=0.0, le=100.0, description="Electricity price.")
    currency: str = Field("USD", min_length=1, max_length=8, description="Unit of every price.")
    cloud_stt_per_minute: float = Field(0.003, ge=0.0, description="Cloud speech-to-text.")
    cloud_llm_input_per_mtok: float = Field(0.15, ge=0.0, description="Per million tokens in.")
    cloud_llm_output_per_mtok: float = Field(0.60, ge=0.0, description="Per million tokens out.")
    cloud_llm_prompt_tokens: int = Field(
        500, ge=0, le=1_000_000, description="Instructions and device list sent with each turn."
    )
    cloud_tts_per_minute: float = Field(0.015, ge=0.0, description="Cloud text-to-speech.")
    sensors: bool = Field(True, description="Publish today's figures as Home Assistant sensors.")


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
    password_file: str = Field(
        "",
        description="File whose first line is the password; empty: the systemd credential "
        "mqtt_password ($CREDENTIALS_DIRECTORY), if the unit passes one.",
    )
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


class PrivacyConfig(_Section):
    """Where Hearth may connect. An entry is an IP address, a network (CIDR), a host name, or
    ``*.suffix``. A name is resolved and every address it resolves to must lie in a listed
    network; a name that cannot be resolved yet is allowed if it is listed or matches a suffix."""

    allowed_hosts: tuple[str, ...] = Field(
        (
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "fe80::/10",
            "fc00::/7",
            "localhost",
            "*.local",
            "*.lan",
            "*.home.arpa",
        ),
        description="The hosts the broker may be on (replaces the default list: loopback, "
        "RFC 1918 LAN ranges, link-local, IPv6 ULA, and .local, .lan, .home.arpa names).",
    )
    allow_remote: bool = Field(
        False, description="true: allow a broker outside allowed_hosts (hearth doctor warns)."
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _host_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            name = entry.strip().removeprefix("*.")
            if "/" in name:
                try:
                    ipaddress.ip_network(name, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not a network (e.g. 192.168.1.0/24)") from None
            elif not re.fullmatch(r"[A-Za-z0-9_.:\[\]%-]+", name):
                raise ValueError(f"{entry!r} is not an address, a network, a name or *.suffix")
        return value


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
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)  # type: ignore[arg-type]
    expose: ExposeConfig = Field(default_factory=ExposeConfig)  # type: ignore[arg-type]
    router: RouterConfig = Field(default_factory=RouterConfig)  # type: ignore[arg-type]
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)  # type: ignore[arg-type]
    journal: JournalConfig = Field(default_factory=JournalConfig)  # type: ignore[arg-type]
    energy: EnergyConfig = Field(default_factory=EnergyConfig)  # type: ignore[arg-type]
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


def data_dir(config: Config) -> Path:
    """Where Hearth keeps its files: ``assistant.data_dir``, else systemd's
    ``$STATE_DIRECTORY``, else ``~/.local/state/hearth``."""
    if config.assistant.data_dir:
        return Path(config.assistant.data_dir).expanduser()
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "state" / "hearth"


def default_config_paths() -> list[Path]:
    """Where a configuration is looked for when ``--config`` is not given."""
    paths = []
    if env := os.environ.get("HEARTH_CONFIG"):
        paths.append(Path(env))
    paths.append(Path.home() / ".config" / "hearth" / "config.toml")
    paths.append(Path("/etc/hearth/config.toml"))
    return paths


def _key_path(loc: tuple[int | str, ...]) -> str:
    """The key as written in the file (``entities[2].domain``). ``loc`` is followed through the
    models; what lies below a key's value (the union member pydantic tried) is left out."""
    parts: list[str] = []
    here: Any = Config
    for item in loc:
        origin = typing.get_origin(here)
        if isinstance(here, type) and issubclass(here, BaseModel) and isinstance(item, str):
            fields = here.model_fields
            found = fields.get(item) or next((f for f in fields.values() if f.alias == item), None)
            name = found.alias or item if found is not None else item
            parts.append(("." if parts else "") + name)
            here = found.annotation if found is not None else None
        elif origin is dict and isinstance(item, str):
            parts.append(f".{item}")
            here = typing.get_args(here)[1]
        elif origin in (tuple, list) and isinstance(item, int):
            parts.append(f"[{item + 1}]")
            here = typing.get_args(here)[0]
        else:
            break
    return "".join(parts)


def parse_config(data: Mapping[str, Any], source: str = "configuration") -> Config:
    """Validate a TOML document; raises :class:`ConfigError` naming the first bad keys."""
    try:
        return Config.model_validate(dict(data))
    except ValidationError as err:
        problems: dict[str, list[str]] = {}  # key -> what is wrong with it, in order
        for item in err.errors():
            key = _key_path(item["loc"])
            if item["type"] == "extra_forbidden":
                problems.setdefault(key, []).append(
                    f"unknown key '{key}' (remove it or check its spelling)"
                )
                continue
            said = problems.setdefault(key, [])
            if said and said[-1].startswith("'") and item["msg"].startswith("Input should be "):
                # another member of a union: "a valid string or a valid integer"
                said[-1] = said[-1].replace(
                    " (got", f" or {item['msg'].removeprefix('Input should be ')} (got", 1
                )
                continue
            got = item.get("input")
            shown = "" if item["type"] == "missing" else f" (got {_toml_scalar(got)})"
            said.append(f"'{key}': {item['msg'].removeprefix('Value error, ')}{shown}")
        lines = [line for said in problems.values() for line in said]
        shown_problems = "; ".join(lines[:3])
        more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
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
