"""Bad text into ``hearth ask`` and into ``hearth/<id>/cmd/ask`` over a real mosquitto.

Empty, 100 KB, control characters, emoji, other languages, SQL-looking and shell-looking text
each get a clear refusal (a one-line stderr and exit 2; an ``error`` event naming the topic) or a
normal answer, never a traceback and never a home action. Shell text is never run: the commands
below would create a file, and the tests check that it does not exist. Text added to the
shopping list is kept as text and read back as it was said.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from broker import Broker, Recorder
from daemon import Daemon
from hearth_cli import run_hearth, write_config

from assistant.mqtt.commands import MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS
from assistant.turn.answer import SORRY

DEVICE_TOPICS = (
    "zigbee2mqtt/kitchen_light/set",
    "tasmota/desk_lamp/cmnd/POWER",
    "tasmota/desk_lamp/cmnd/Dimmer",
    "home/coffee_maker/set",
)
# every C0 control character but NUL (which no command-line argument can hold), and DEL
CONTROL = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r") + "\x7f"

# text that is not a command: each gets the normal "didn't understand" answer, and no action
NOT_COMMANDS = {
    "emoji": "💡🔥🙂👍🏽 🇩🇪",
    "german": "Schalte das Küchenlicht ein",
    "chinese": "打开厨房的灯",
    "arabic": "أشعل ضوء المطبخ",
    "sql": "'; DROP TABLE lists; --",
    "sql_or": "1' OR '1'='1",
    "shell_subst": "$(rm -rf /)",
    "shell_backticks": "`reboot`",
    "shell_chain": "; reboot && shutdown -h now | cat /etc/shadow",
    # these would each create the file CANARY if any shell ran them
    "shell_touch": "$(touch CANARY)",
    "shell_touch_backticks": "`touch CANARY`",
    "shell_touch_chain": "turn on the kitchen light; touch CANARY && echo",
    "escape_sequences": "\x1b[2J\x1b[31mhello\x1b[0m\x1b]0;title\x07",
    "carriage_returns": "hello\rworld\r\n",
    "control_mix": f"what{CONTROL}ever",
}


def settle(recorder: Recorder) -> None:
    """Wait until the broker has delivered everything published so far to the recorder."""
    marker = uuid.uuid4().hex
    recorder.client.publish("test/settle", marker, qos=1)
    assert recorder.wait_value("test/settle", marker, timeout_s=10)


def no_actions(recorder: Recorder, node_id: str, since: int = 0) -> None:
    """Nothing reached a device, and Hearth mirrored no action, since message ``since``."""
    settle(recorder)
    assert recorder.on(f"hearth/{node_id}/action") == []
    assert [t for t, _, _ in recorder.messages[since:] if t in DEVICE_TOPICS] == []


def config_with_data_dir(tmp_path: Path, port: int, node_id: str) -> Path:
    path = write_config(tmp_path, port, node_id=node_id)
    data = tmp_path / "data"
    path.write_text(
        path.read_text().replace("[assistant]\n", f'[assistant]\ndata_dir = "{data}"\n', 1)
    )
    return path


@pytest.fixture(scope="module")
def module_recorder(broker: Broker) -> Iterator[Recorder]:
    rec = Recorder(broker.port)
    yield rec
    rec.close()


# -- hearth ask -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "nothing to ask"),
        ("   \t ", "nothing to ask"),
        (CONTROL, "the text is empty"),
        ("x" * 100_000, f"limit is {MAX_TEXT_CHARS}"),
        ("turn on the kitchen light " * 4000, f"limit is {MAX_TEXT_CHARS}"),
    ],
    ids=["empty", "blank", "only_control", "100KB", "100KB_of_commands"],
)
def test_ask_refuses_unusable_text(
    text: str, says: str, tmp_path: Path, broker: Broker, module_recorder: Recorder
) -> None:
    since = len(module_recorder.messages)
    config = config_with_data_dir(tmp_path, broker.port, "badask")
    result = run_hearth("ask", "--config", str(config), text, timeout_s=60)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hearth: ") and says in lines[0], lines
    no_actions(module_recorder, "badask", since)


@dataclass
class Answers:
    results: dict[str, subprocess.CompletedProcess[str]]
    canary: Path


@pytest.fixture(scope="module")
def odd_answers(
    broker: Broker, module_recorder: Recorder, tmp_path_factory: pytest.TempPathFactory
) -> Answers:
    """``hearth ask`` on each of :data:`NOT_COMMANDS`, a few at a time, each as its own node."""
    since = len(module_recorder.messages)
    canary = tmp_path_factory.mktemp("canary") / "made_by_a_shell"

    def ask(name: str) -> subprocess.CompletedProcess[str]:
        folder = tmp_path_factory.mktemp(f"odd_{name}")
        config = config_with_data_dir(folder, broker.port, f"odd_{name}")
        text = NOT_COMMANDS[name].replace("CANARY", str(canary))
        return run_hearth("ask", "--config", str(config), text, timeout_s=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(zip(NOT_COMMANDS, pool.map(ask, NOT_COMMANDS), strict=True))
    for name in NOT_COMMANDS:
        no_actions(module_recorder, f"odd_{name}", since)
    return Answers(answers, canary)


@pytest.mark.parametrize("name", NOT_COMMANDS)
def test_ask_answers_odd_text_normally(name: str, odd_answers: Answers) -> None:
    result = odd_answers.results[name]
    assert result.returncode == 1, result  # answered, but nothing was understood
    assert result.stdout == SORRY + "\n"
    assert "ERROR" not in result.stderr


def test_ask_cleans_control_characters_out_of_a_command(
    tmp_path: Path, broker: Broker, module_recorder: Recorder
) -> None:
    since = len(module_recorder.messages)
    config = config_with_data_dir(tmp_path, broker.port, "cleanask")
    result = run_hearth(
        "ask", "--config", str(config), "turn on the\r kitchen\x1b light\x07\r\n", timeout_s=60
    )
    assert result.returncode == 0, result
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    settle(module_recorder)
    sent = [(t, p) for t, p, _ in module_recorder.messages[since:] if t in DEVICE_TOPICS]
    assert sent == [("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')]


def test_ask_never_runs_shell_text(odd_answers: Answers) -> None:
    assert set(odd_answers.results) == set(NOT_COMMANDS)
    assert not odd_answers.canary.exists()


# -- hearth/<id>/cmd/ask --------------------------------------------------------------------------


@dataclass
class Running:
    daemon: Daemon
    recorder: Recorder
    node_id: str
    config: Path
    canary: Path


@pytest.fixture(scope="module")
def running(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("cmdask")
    config = config_with_data_dir(folder, broker.port, "badcmd")
    daemon = Daemon(config)
    recorder = Recorder(broker.port)
    try:
        daemon.wait_line("ready in", timeout_s=120)
        yield Running(daemon, recorder, "badcmd", config, folder / "made_by_cmd")
        assert daemon.stop() == 0
        assert not [line for line in daemon.lines if "Traceback" in line], daemon.lines
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
        recorder.close()


def ask_over_mqtt(running: Running, payload: bytes) -> dict[str, object]:
    """Publish on cmd/ask; return the refusal (an ``error`` event without a turn) or the
    turn's events by type."""
    base = f"hearth/{running.node_id}"
    rec = running.recorder
    errors_before = len(rec.on(f"{base}/event/error"))
    ends_before = len(rec.on(f"{base}/event/turn_end"))
    rec.client.publish(f"{base}/cmd/ask", payload, qos=1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ends = rec.on(f"{base}/event/turn_end")
        if len(ends) > ends_before:
            turn = json.loads(ends[-1])["turn"]
            settle(rec)
            return {
                kind: [
                    json.loads(p)
                    for p in rec.on(f"{base}/event/{kind}")
                    if json.loads(p)["turn"] == turn
                ]
                for kind in ("transcript", "reply", "error", "turn_end")
            }
        errors = rec.on(f"{base}/event/error")
        if len(errors) > errors_before and json.loads(errors[-1])["turn"] is None:
            return {"refused": json.loads(errors[-1])}
        time.sleep(0.05)
    raise AssertionError("no answer and no refusal:\n" + "\n".join(running.daemon.lines[-20:]))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "bad_command"),
        (b" \t\r\n", "bad_command"),
        (CONTROL.encode(), "bad_command"),
        (b"\x00" * 100, "bad_command"),
        (b"x" * 100_000, "payload_too_large"),
        (b"y" * (MAX_TEXT_CHARS + 1), "bad_command"),
        (b"\xff\xfe\x00d\x00", "bad_encoding"),
        (b'{"text": ""}', "bad_command"),
        (b'{"text": null}', "bad_command"),
        (b"{not json", "bad_command"),
    ],
    ids=[
        "empty",
        "blank",
        "only_control",
        "nuls",
        "100KB",
        "too_many_chars",
        "utf16",
        "json_empty",
        "json_null",
        "broken_json",
    ],
)
def test_cmd_ask_refuses_with_the_topic(running: Running, payload: bytes, code: str) -> None:
    since = len(running.recorder.messages)
    result = ask_over_mqtt(running, payload)
    refused = result.get("refused")
    assert isinstance(refused, dict), result
    topic = f"hearth/{running.node_id}/cmd/ask"
    assert refused["code"] == code
    assert str(refused["message"]).startswith(f"{topic}: ")
    assert "\n" not in str(refused["message"])
    if code == "payload_too_large":
        assert str(MAX_PAYLOAD_BYTES) in str(refused["message"])
    no_actions(running.recorder, running.node_id, since)


ODD_PAYLOADS = {**NOT_COMMANDS, "nul_inside": "what\x00ever\x00"}


@pytest.mark.parametrize("text", ODD_PAYLOADS.values(), ids=ODD_PAYLOADS.keys())
def test_cmd_ask_answers_odd_text_normally(running: Running, text: str) -> None:
    since = len(running.recorder.messages)
    result = ask_over_mqtt(running, text.replace("CANARY", str(running.canary)).encode())
    assert "refused" not in result, result
    assert [r["text"] for r in result["reply"]] == [SORRY]  # type: ignore[index]
    assert [e["outcome"] for e in result["turn_end"]] == ["no_intent"]  # type: ignore[index]
    heard = result["transcript"][0]["text"]  # type: ignore[index]
    assert all(ch.isprintable() for ch in heard), heard
    no_actions(running.recorder, running.node_id, since)


def test_list_items_are_kept_as_text(running: Running) -> None:
    """Added over cmd/ask, read back by ``hearth ask`` and from the file: as said, never run."""
    since = len(running.recorder.messages)
    verbatim = [
        "$(rm -rf /)",
        "`reboot`",
        f"$(touch {running.canary})",
        f"`touch {running.canary}`",
        "| cat /etc/passwd",
        "&& reboot",
        "1' OR '1'='1",
        "{{ 7*7 }}",
        "<script>alert(1)</script>",
    ]
    for item in [*verbatim, "'; DROP TABLE lists; --"]:
        result = ask_over_mqtt(running, f"add {item} to my shopping list".encode())
        assert [e["outcome"] for e in result["turn_end"]] == ["ok"], result  # type: ignore[index]
    lists = running.config.parent / "data" / "lists.json"
    shopping = json.loads(lists.read_text(encoding="utf-8"))["lists"]["shopping"]
    # kept as said; the sentence matcher drops the semicolons of the last one, nothing else
    assert shopping[: len(verbatim)] == verbatim
    assert len(shopping) == len(verbatim) + 1 and "DROP TABLE lists" in shopping[-1]
    read = run_hearth("ask", "--config", str(running.config), "what is on my shopping list")
    assert read.returncode == 0, read
    for item in verbatim:
        assert item in read.stdout
    assert not running.canary.exists()
    no_actions(running.recorder, running.node_id, since)
