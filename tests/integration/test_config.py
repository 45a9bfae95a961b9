"""Configuration: defaults work, every bad key is named, unknown keys are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hearth_cli import run_hearth

from assistant.config import Config, load_config, parse_config
from assistant.errors import ConfigError


def test_defaults_are_the_embedded_models() -> None:
    config = Config()
    assert config.wake.model == "hey_jarvis"
    assert config.stt.model == "tiny.en"
    assert config.tts.voice == "en_US-joe-medium"
    assert config.vad.silence_s == 0.7
    assert config.mqtt.command_ttl_s == 10


def test_contract_keys_parse(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[assistant]\nnode_id = "kitchen"\nlanguage = "en"\n'
        '[wake]\nmodel = "alexa"\nthreshold = 0.6\n'
        '[mqtt]\nhost = "127.0.0.1"\nport = 1884\nusername = ""\npassword_file = ""\n'
        'discovery_prefix = "homeassistant"\ncommand_ttl_s = 5\n'
        '[[entities]]\ndomain = "light"\nname = "Kitchen Light"\nunique_id = "kitchen_light"\n'
        'schema = "json"\ncommand_topic = "zigbee2mqtt/kitchen_light/set"\n'
        'suggested_area = "kitchen"\n'
    )
    config, source = load_config(path)
    assert source == path
    assert config.entities[0].schema_ == "json"
    assert config.wake.threshold == 0.6 and config.mqtt.port == 1884


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"wake": {"threshold": 2}}, "'wake.threshold'"),
        ({"wake": {"threshold": "high"}}, "'wake.threshold'"),
        ({"mqtt": {"port": 70000}}, "'mqtt.port'"),
        ({"vad": {"silence_s": -1}}, "'vad.silence_s'"),
        ({"stt": {"threads": 0}}, "'stt.threads'"),
        ({"assistant": {"node_id": "Kitchen Hub"}}, "'assistant.node_id'"),
        ({"wake": {"treshold": 0.5}}, "unknown key 'wake.treshold'"),
        ({"speech": {}}, "unknown key 'speech'"),
        (
            {"entities": [{"domain": "toaster", "name": "T", "unique_id": "t"}]},
            "'entities[1].domain'",
        ),
        (
            {"entities": [{"domain": "light", "name": "L", "unique_id": "l", "schema": "xml"}]},
            "'entities[1].schema'",
        ),
        (
            {"entities": [{"domain": "light", "name": "L", "unique_id": "l", "colour": 1}]},
            "unknown key 'entities[1].colour'",
        ),
        (
            {
                "entities": [
                    {"domain": "light", "name": "L", "unique_id": "l", "command_topic": "a/+/set"}
                ]
            },
            "'entities[1].command_topic'",
        ),
    ],
)
def test_bad_values_name_their_key(document: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(document, "test.toml")
    message = caught.value.message
    assert message.startswith("test.toml: ")
    assert named in message
    assert "\n" not in message


def test_duplicate_unique_id_is_refused() -> None:
    entity = {"domain": "switch", "name": "A", "unique_id": "same", "command_topic": "a/set"}
    with pytest.raises(ConfigError, match="declared twice"):
        parse_config({"entities": [entity, {**entity, "name": "B"}]})


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[wake\nmodel = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.toml"
    path.write_text('[assistant]\nnode_id = "from_env"\n')
    monkeypatch.setenv("HEARTH_CONFIG", str(path))
    config, source = load_config()
    assert source == path and config.assistant.node_id == "from_env"


def test_check_config_cli(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[assistant]\nnode_id = "hall"\n')
    result = run_hearth("check-config", "--config", str(good))
    assert result.returncode == 0
    assert 'node_id = "hall"' in result.stdout and 'model = "hey_jarvis"' in result.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text("[wake]\nthreshold = 3\n")
    result = run_hearth("check-config", "--config", str(bad))
    assert result.returncode == 78
    assert result.stderr.strip().count("\n") == 0
    assert "wake.threshold" in result.stderr and str(bad) in result.stderr


def test_check_config_output_reads_back(tmp_path: Path) -> None:
    import tomllib

    source = tmp_path / "full.toml"
    source.write_text(
        '[profiles.homework_helper]\nsystem_prompt = "Be patient."\nskills = ["clock"]\n'
        'expose = { areas = ["Study"] }\n[skills.weather]\nentity = "sensor.outdoor"\n'
        '[[entities]]\ndomain = "switch"\nname = "Kettle"\nunique_id = "kettle"\n'
        'command_topic = "home/kettle/set"\n'
    )
    result = run_hearth("check-config", "--config", str(source))
    assert result.returncode == 0, result.stderr
    printed = "\n".join(result.stdout.splitlines()[1:])
    again = parse_config(tomllib.loads(printed))
    original, _ = load_config(source)
    assert again == original
