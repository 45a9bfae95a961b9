"""The sections of the configuration file, one class each, every key documented where it is
defined."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
)

from .base import _NODE_ID_RE, Section, default_node_id

__all__ = [
    "AssistantConfig",
    "AudioConfig",
    "ConversationConfig",
    "EnergyConfig",
    "ExposeConfig",
    "JournalConfig",
    "LlmConfig",
    "MqttConfig",
    "PrivacyConfig",
    "ProfileConfig",
    "RouterConfig",
    "SttConfig",
    "TtsConfig",
    "VadConfig",
    "WakeConfig",
]


_WYOMING_URI = re.compile(r"^tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def _wyoming_uri(value: str) -> str:
    """Empty, or ``tcp://host:port`` with a port from 1 to 65535."""
    if not value:
        return value
    match = _WYOMING_URI.match(value)
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError('write it as "tcp://host:port", e.g. "tcp://192.168.1.20:10300"')
    return value


class AssistantConfig(Section):
    name: str = Field("Hearth", description="What the assistant calls itself.")
    language: str = Field("en", description="Language of templates, recognition and voice.")
    node_id: str = Field(default_factory=default_node_id, description="MQTT base hearth/<node_id>.")
    data_dir: str = Field(
        "",
        description="Where lists and other files are kept; default $STATE_DIRECTORY or "
        "~/.local/state/hearth.",
    )
    profile: str = Field("", description="The profile in use at start; empty: none.")
    area: str = Field(
        "",
        description='The room this node is in ("Kitchen"): "turn on the lights" means the '
        "lights here.",
    )

    @field_validator("node_id")
    @classmethod
    def _node_id_chars(cls, value: str) -> str:
        if not _NODE_ID_RE.match(value):
            raise ValueError("use only lower-case letters, digits, '_' and '-'")
        return value


_DeviceIndex = Annotated[int, Field(ge=0, le=9999)]  # as `hearth devices` lists them


class AudioConfig(Section):
    input_device: str | _DeviceIndex | None = Field(None, description="sounddevice name or index.")
    output_device: str | _DeviceIndex | None = Field(None, description="sounddevice name or index.")
    pre_roll_s: float = Field(
        0.16, ge=0.0, le=3.0, description="Audio kept from before the wake word fired."
    )


class WakeConfig(Section):
    model: str = Field("hey_jarvis", description="Bundled name or path to a .tflite/.onnx model.")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Score that counts as a wake-up.")
    refractory_s: float = Field(2.0, ge=0.0, le=30.0, description="Ignore wake-ups this long.")


class VadConfig(Section):
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Silero speech probability.")
    silence_s: float = Field(0.7, gt=0.0, le=5.0, description="Silence that ends a command.")
    no_speech_s: float = Field(5.0, gt=0.0, le=30.0, description="Give up if nothing is said.")
    max_command_s: float = Field(15.0, gt=1.0, le=60.0, description="Cut a command this long.")
    early_match_s: float = Field(
        0.2,
        ge=0.0,
        le=5.0,
        description="After this much silence, transcribe on a worker and end early on a complete "
        "template match, unless speech comes back first (0 turns it off).",
    )


class SttConfig(Section):
    model: str = Field("tiny.en", description="Bundled name or a CTranslate2 Whisper folder.")
    compute_type: str = Field("int8", description="CTranslate2 compute type.")
    threads: int = Field(2, ge=1, le=64, description="CPU threads for CTranslate2.")
    beam_size: int = Field(1, ge=1, le=10)
    uri: str = Field(
        "",
        description='"tcp://host:10300": a Wyoming speech-to-text server (wyoming-faster-whisper) '
        "instead of the local model, which stays loaded as the fallback; empty: local only.",
    )
    server_timeout_s: float = Field(
        3.0,
        gt=0.0,
        le=60.0,
        description="The server's deadline for a transcript once the command has been sent; "
        "past it the local model transcribes, seconds.",
    )

    @field_validator("uri")
    @classmethod
    def _stt_uri(cls, value: str) -> str:
        return _wyoming_uri(value)


class ExposeConfig(Section):
    """Which discovered entities voice may use; empty lists mean no limit. Entities declared in
    ``[[entities]]`` are always exposed."""

    areas: tuple[str, ...] = Field((), description="Only entities in these areas.")
    domains: tuple[str, ...] = Field((), description="Only these domains (light, switch, ...).")
    entities: tuple[str, ...] = Field((), description="Only these entity ids.")
    exclude: tuple[str, ...] = Field((), description="Never these entity ids.")


class LlmConfig(Section):
    """The local language model: router layer 2 (tool calls) and layer 3 (free answers)."""

    enabled: bool = Field(True, description="false: sentence templates only.")
    model: str = Field("smollm2-135m", description="Bundled name or path to a GGUF file.")
    chat_format: str = Field("", description="llama.cpp chat format; empty: from the GGUF.")
    n_ctx: int = Field(2048, ge=256, le=131072, description="Context window, tokens.")
    n_threads: int = Field(2, ge=1, le=64, description="CPU threads for llama.cpp.")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(120, ge=8, le=4096, description="Longest free answer, tokens.")
    prompt_tokens: int = Field(
        1400,
        ge=256,
        le=131072,
        description="Longest tool prompt, tokens (at most n_ctx - 512); a bigger home gets only "
        "the devices relevant to each command.",
    )
    timeout_s: float = Field(20.0, gt=0.0, le=600.0, description="Deadline for one answer.")
    thinking_cue_s: float = Field(
        3.0, ge=0.0, le=600.0, description='Say "still thinking" after this long; 0: never.'
    )
    system_prompt: str = Field("", description="Extra instructions for free answers.")


class RouterConfig(Section):
    sentences_dir: str = Field("", description="Folder of your own hassil sentence files (.yaml).")
    skills_dir: str = Field("", description="Folder of your own skill modules (.py).")
    skill_timeout_s: float = Field(
        10.0, gt=0.0, le=300.0, description="A skill that takes longer ends its turn."
    )


class ConversationConfig(Section):
    timeout_s: float = Field(
        300.0, gt=0.0, le=86400.0, description="Follow-up turns within this share history."
    )
    confirm_timeout_s: float = Field(
        8.0, gt=0.0, le=60.0, description="How long a yes to a sensitive action may take."
    )


class JournalConfig(Section):
    """The interaction journal: one row per turn in a SQLite file in the data directory."""

    enabled: bool = Field(True, description="false: nothing about turns is kept.")
    keep_days: int = Field(30, ge=1, le=3650, description="Turns older than this are deleted.")
    keep_audio: bool = Field(
        False, description="Keep each command's and reply's audio as WAVs beside the journal."
    )
    audio_keep_days: int = Field(7, ge=1, le=3650, description="Audio older than this is deleted.")
    path: str = Field("", description="The journal file; default <data_dir>/journal.sqlite.")


class EnergyConfig(Section):
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


class ProfileConfig(Section):
    """A persona: its own instructions, the skills and devices it may use, its LLM settings."""

    description: str = ""
    system_prompt: str = ""
    skills: tuple[str, ...] = Field((), description="Skill names it may use; empty: all.")
    expose: ExposeConfig = Field(default_factory=ExposeConfig)  # type: ignore[arg-type]
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=8, le=4096, description="Longest answer, tokens.")
    knowledge_dir: str = Field(
        "", description="Folder of Markdown/text notes that free answers come from; empty: none."
    )

    @field_validator("knowledge_dir")
    @classmethod
    def _notes_folder(cls, value: str) -> str:
        if value and not Path(value).expanduser().is_dir():
            raise ValueError(f"{value}: folder not found; give the folder that holds the notes")
        return value


class TtsConfig(Section):
    voice: str = Field("en_US-joe-medium", description="Bundled name or path to a Piper .onnx.")
    speaker_id: int | None = Field(None, ge=0)
    length_scale: float | None = Field(None, gt=0.1, le=5.0, description="Speaking slowness.")
    noise_scale: float | None = Field(None, ge=0.0, le=2.0, description="Generator noise.")
    noise_w_scale: float | None = Field(None, ge=0.0, le=2.0, description="Timing noise.")
    threads: int = Field(1, ge=1, le=64, description="onnxruntime threads for Piper.")
    cache_replies: int = Field(64, ge=0, le=10000, description="Synthesised replies kept.")
    uri: str = Field(
        "",
        description='"tcp://host:10200": a Wyoming text-to-speech server (wyoming-piper) instead '
        "of the local voice, which stays loaded as the fallback; empty: local only.",
    )
    server_timeout_s: float = Field(
        3.0,
        gt=0.0,
        le=60.0,
        description="The server's deadline for a sentence's audio; past it the local voice "
        "speaks it, seconds.",
    )

    @field_validator("uri")
    @classmethod
    def _tts_uri(cls, value: str) -> str:
        return _wyoming_uri(value)


class MqttConfig(Section):
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


class PrivacyConfig(Section):
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
