"""The whole configuration, and how it is found, read and validated."""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
)

from ..errors import ConfigError
from .base import Section, toml_scalar
from .dashboard import DashboardConfig
from .entity import EntityConfig
from .rooms import RoomsConfig
from .sections import (
    AssistantConfig,
    AudioConfig,
    ConversationConfig,
    EnergyConfig,
    ExposeConfig,
    JournalConfig,
    LlmConfig,
    MqttConfig,
    PrivacyConfig,
    ProfileConfig,
    RouterConfig,
    SttConfig,
    TtsConfig,
    VadConfig,
    WakeConfig,
)

__all__ = ["Config", "data_dir", "default_config_paths", "load_config", "parse_config"]


class Config(Section):
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
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)  # type: ignore[arg-type]
    rooms: RoomsConfig = Field(default_factory=RoomsConfig)  # type: ignore[arg-type]
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
            shown = "" if item["type"] == "missing" else f" (got {toml_scalar(got)})"
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
    from ..files import MIB, read_text_file

    text = read_text_file(chosen, MIB, "the configuration file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config_syntax", f"{chosen}: not valid TOML: {err}") from None
    return parse_config(data, str(chosen)), chosen
