"""Configuration: one TOML file, parsed once into frozen, validated models.

Resolution order: ``--config``, ``$HEARTH_CONFIG``, ``~/.config/hearth/config.toml``,
``/etc/hearth/config.toml``; with none, every key has a working default (the embedded models).
Unknown keys are errors. Each component receives only its own section.
"""

from __future__ import annotations

from .dashboard import DashboardConfig
from .entity import EntityConfig
from .load import Config, data_dir, default_config_paths, load_config, parse_config
from .rooms import RoomsConfig, SatelliteConfig
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

__all__ = [
    "AssistantConfig",
    "AudioConfig",
    "Config",
    "ConversationConfig",
    "DashboardConfig",
    "EnergyConfig",
    "EntityConfig",
    "ExposeConfig",
    "JournalConfig",
    "LlmConfig",
    "MqttConfig",
    "PrivacyConfig",
    "ProfileConfig",
    "RoomsConfig",
    "RouterConfig",
    "SatelliteConfig",
    "SttConfig",
    "TtsConfig",
    "VadConfig",
    "WakeConfig",
    "data_dir",
    "default_config_paths",
    "load_config",
    "parse_config",
]
