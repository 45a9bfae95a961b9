"""Running the installed ``hearth`` command, and the configuration the tests give it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["ENTITIES_TOML", "HEARTH", "run_hearth", "write_config"]


HEARTH = str(Path(sys.executable).parent / "hearth")

ENTITIES_TOML = """
[[entities]]
domain = "light"
name = "Kitchen Light"
unique_id = "kitchen_light"
schema = "json"
command_topic = "zigbee2mqtt/kitchen_light/set"
suggested_area = "Kitchen"

[[entities]]
domain = "light"
name = "Desk Lamp"
unique_id = "desk_lamp"
command_topic = "tasmota/desk_lamp/cmnd/POWER"
brightness_command_topic = "tasmota/desk_lamp/cmnd/Dimmer"
brightness_scale = 100
suggested_area = "Office"

[[entities]]
domain = "switch"
name = "Coffee Maker"
unique_id = "coffee_maker"
command_topic = "home/coffee_maker/set"
payload_on = "1"
payload_off = "0"
suggested_area = "Kitchen"
"""


def write_config(directory: Path, port: int, node_id: str = "kitchen", extra: str = "") -> Path:
    path = directory / "config.toml"
    # the language model stays off: these tests are about the sentence templates; the dashboard
    # listens on a free port, so that daemons running side by side do not compete for 8741
    dashboard = "" if "[dashboard]" in extra else "\n[dashboard]\nport = 0\n"
    path.write_text(
        f'[assistant]\nnode_id = "{node_id}"\n\n[llm]\nenabled = false\n\n'
        f"[mqtt]\nport = {port}\n{extra}\n{dashboard}{ENTITIES_TOML}"
    )
    return path


def run_hearth(
    *args: str,
    timeout_s: float = 240,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hearth`` console script; stdout and stderr as text."""
    done = subprocess.run(
        [HEARTH, *args], input=stdin, capture_output=True, timeout=timeout_s, env=env
    )
    result = subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result
