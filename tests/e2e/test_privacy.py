"""Privacy, proven: hub switches off, the broker allow-list, a chain that works with no network
but loopback, and an audit of every socket `hearth run` and `hearth ask` open."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from broker import Broker, Recorder
from hearth_cli import run_hearth, write_config

from assistant.config import Config, parse_config
from assistant.errors import ConfigError
from assistant.service.privacy import OFFLINE_ENVIRONMENT, Rules, check_host, go_offline
from assistant.tools.doctor import privacy_checks

DEFAULTS = Rules.parse(Config().privacy.allowed_hosts)
SUPPORT = Path(__file__).resolve().parents[1] / "support"


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """Stands in for DNS, which this machine cannot reach: names map to addresses."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("192.168.1.20", True),
        ("10.1.2.3", True),
        ("172.31.255.1", True),
        ("172.32.0.1", False),
        ("169.254.3.4", True),
        ("fe80::1%eth0", True),
        ("fd12:3456::7", True),
        ("::ffff:192.168.0.9", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("[::1]", True),
    ],
)
def test_addresses_are_checked_against_the_allowed_networks(host: str, allowed: bool) -> None:
    assert check_host(host, 1883, DEFAULTS, _resolver({})).allowed is allowed


def test_names_are_resolved_and_every_address_must_be_allowed() -> None:
    resolve = _resolver(
        {
            "broker.lan": ["192.168.1.5"],
            "split.lan": ["192.168.1.6", "203.0.113.9"],
            "mqtt.example.com": ["203.0.113.10"],
            "nas": ["10.0.0.4", "fd00::4"],
        }
    )
    assert check_host("broker.lan", 1883, DEFAULTS, resolve).allowed
    assert check_host("nas", 1883, DEFAULTS, resolve).allowed
    split = check_host("split.lan", 1883, DEFAULTS, resolve)
    assert not split.allowed and "203.0.113.9" in split.reason  # a .lan name is no pass
    assert not check_host("mqtt.example.com", 1883, DEFAULTS, resolve).allowed
    # a name that cannot be resolved yet is judged by its name
    assert check_host("homeassistant.local", 1883, DEFAULTS, resolve).allowed
    assert check_host("pi.home.arpa", 1883, DEFAULTS, resolve).allowed
    assert not check_host("broker.example.org", 1883, DEFAULTS, resolve).allowed
    listed = Rules.parse(["127.0.0.0/8", "mybroker"])
    assert check_host("mybroker", 1883, listed, resolve).allowed
    assert not check_host("192.168.1.5", 1883, listed, resolve).allowed  # replaces the defaults


def test_bad_allowed_hosts_entry_names_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"privacy": {"allowed_hosts": ["192.168.1.0/40"]}})
    assert "privacy.allowed_hosts" in caught.value.message


def test_go_offline_sets_every_switch() -> None:
    environ = {"HF_HUB_OFFLINE": "0"}
    go_offline(environ)
    assert environ["HF_HUB_OFFLINE"] == "1"
    assert {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"} <= set(environ)
    assert environ == OFFLINE_ENVIRONMENT


def test_the_command_line_switches_the_hub_library_offline(tmp_path: Path) -> None:
    code = (
        "import sys; from assistant.cli import main; main(['check-config']); "
        "import huggingface_hub.constants as hub; sys.stderr.write(str(hub.HF_HUB_OFFLINE))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS"))}
    env["HEARTH_CONFIG"] = str(write_config(tmp_path, 1883))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0 and done.stderr.endswith("True"), done.stderr


def test_a_broker_outside_the_allowed_hosts_is_refused_unless_allowed(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    refused = write_config(
        tmp_path, broker.port, extra='\n[privacy]\nallowed_hosts = ["10.0.0.0/8"]\n'
    )
    result = run_hearth("ask", "--config", str(refused), "turn on the kitchen light", timeout_s=60)
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mqtt.host" in lines[0] and "allowed_hosts" in lines[0]
    assert recorder.on("zigbee2mqtt/kitchen_light/set") == []

    opted_in = write_config(
        tmp_path,
        broker.port,
        extra='\n[privacy]\nallowed_hosts = ["10.0.0.0/8"]\nallow_remote = true\n',
    )
    result = run_hearth("ask", "--config", str(opted_in), "turn on the kitchen light", timeout_s=60)
    assert result.returncode == 0, result.stderr
    assert recorder.wait_for("zigbee2mqtt/kitchen_light/set") == ['{"state":"ON"}']


def test_a_model_name_that_needs_a_download_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tts]\nvoice = "en_US-lessac-medium"\n')
    result = run_hearth(
        "say", "--config", str(config), "hello", "--output", str(tmp_path / "o.wav"), timeout_s=60
    )
    assert result.returncode == 78
    assert "tts.voice" in result.stderr and "never downloads" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


_GUARD = """
import socket, sys
from assistant.service.privacy import Rules, guard_connections
guard_connections(Rules.parse(["127.0.0.1/32"]))
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
try:
    socket.create_connection(("127.0.0.2", int(sys.argv[1])), timeout=5)
except PermissionError as err:
    print("refused", err)
"""


def test_the_connection_guard_refuses_addresses_outside_the_rules(broker: Broker) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _GUARD, str(broker.port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused") and "127.0.0.2" in done.stdout


def test_doctor_reports_the_privacy_posture() -> None:
    home = {c.name: c for c in privacy_checks(Config())}
    assert home["remote"].status == "ok" and home["tls"].status == "ok"
    assert home["auth"].status == "WARN"  # anonymous
    assert home["audio"].status == "ok"

    lan = parse_config({"mqtt": {"host": "192.168.1.10", "username": "hearth"}})
    checks = {c.name: c for c in privacy_checks(lan)}
    assert checks["tls"].status == "WARN" and "tls = true" in checks["tls"].detail
    assert checks["auth"].status == "ok"
    assert checks["remote"].status == "ok"

    remote = parse_config({"mqtt": {"host": "203.0.113.7", "tls": True}})
    assert {c.name: c for c in privacy_checks(remote)}["remote"].status == "FAIL"
    opted = parse_config(
        {"mqtt": {"host": "203.0.113.7", "tls": True}, "privacy": {"allow_remote": True}}
    )
    checks = {c.name: c for c in privacy_checks(opted)}
    assert checks["remote"].status == "WARN" and "allow_remote" in checks["remote"].detail
    assert checks["tls"].status == "ok"


def test_doctor_warns_when_the_journal_keeps_audio() -> None:
    config = parse_config({"journal": {"keep_audio": True}})
    audio = {c.name: c for c in privacy_checks(config)}["audio"]
    assert audio.status == "WARN" and "keep_audio" in audio.detail


# -- the whole chain with no network but loopback -------------------------------------------


def _inside_namespace(workdir: Path, wav: Path) -> int:
    """Run in a fresh network namespace: bring up loopback, start a broker, run the chain."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
    names = [line.split(":")[1].strip() for line in links.stdout.splitlines()]
    from broker import free_port

    broker = Broker(free_port(), workdir)
    broker.start()
    try:
        recorder = Recorder(broker.port)
        config = write_config(workdir, broker.port)
        result = run_hearth(
            "run", "--config", str(config), "--input", str(wav), "--output", str(workdir / "o.wav")
        )
        recorder.wait_for("zigbee2mqtt/kitchen_light/set")
        recorder.wait_for("hearth/kitchen/availability", 2)
        print(
            json.dumps(
                {
                    "links": names,
                    "returncode": result.returncode,
                    "stderr": result.stderr[-2000:],
                    "messages": recorder.messages,
                }
            )
        )
        recorder.close()
    finally:
        broker.stop()
    return 0


def _unshare() -> list[str]:
    tool = shutil.which("unshare")
    if tool is None:
        pytest.fail("unshare (util-linux) is needed to run the chain without a network")
    return [tool, "-n"] if os.geteuid() == 0 else [tool, "-rn"]


def test_the_whole_chain_works_with_only_loopback(tmp_path: Path) -> None:
    from speech import utterance, write_wav

    wav = write_wav(
        tmp_path / "in.wav", utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 2.0)
    )
    done = subprocess.run(
        [*_unshare(), sys.executable, __file__, "--inside-namespace", str(tmp_path), str(wav)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONPATH": str(SUPPORT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["links"] == ["lo"], report["links"]  # nothing but loopback in there
    assert report["returncode"] == 0, report["stderr"]
    device = [(t, p) for t, p, _ in report["messages"] if t == "zigbee2mqtt/kitchen_light/set"]
    assert device == [("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')]


# -- every socket, audited --------------------------------------------------------------------

_SITECUSTOMIZE = """
import atexit, json, os, socket, sys

_log = open(os.environ["HEARTH_SOCKET_AUDIT"], "a", buffering=1)


def _address(value):
    if isinstance(value, (str, bytes)):
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return [str(value[0]), int(value[1])]


def _own_listener(port):
    # whether this very process listens on the port (paho's in-process wake-up socket pair)
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                listening = fields[3] == "0A"
                if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    if fields[9] in inodes:
                        return True
    return False


def _hook(event, args):
    if event in ("socket.connect", "socket.sendto"):
        family = int(getattr(args[0], "family", -1))
        address = _address(args[-1])
        own = isinstance(address, list) and _own_listener(address[1])
        record = {"event": event, "family": family, "address": address, "own": own}
        _log.write(json.dumps(record) + "\\n")
    elif event == "socket.getaddrinfo":
        _log.write(json.dumps({"event": event, "host": str(args[0])}) + "\\n")


def _at_exit():
    hub = sys.modules.get("huggingface_hub.constants")
    _log.write(json.dumps({"event": "exit", "hub_offline": getattr(hub, "HF_HUB_OFFLINE", None),
                           "env_offline": os.environ.get("HF_HUB_OFFLINE")}) + "\\n")


atexit.register(_at_exit)
sys.addaudithook(_hook)
"""


def _audited(tmp_path: Path, *args: str) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    log = tmp_path / f"audit-{args[0]}.jsonl"
    notify_path = str(tmp_path / f"notify-{args[0]}.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
        "HEARTH_SOCKET_AUDIT": str(log),
        "NOTIFY_SOCKET": notify_path,
    }
    try:
        result = run_hearth(*args, env=env)
    finally:
        notify.close()
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()], notify_path


def _assert_only_the_broker(records: list[dict], port: int, notify_path: str) -> None:  # type: ignore[type-arg]
    own = [r for r in records if r.get("own")]  # paho's wake-up pair, inside the process
    assert all(r["address"][0] == "127.0.0.1" for r in own), own
    inet = [
        r
        for r in records
        if r.get("family") in (socket.AF_INET, socket.AF_INET6) and not r.get("own")
    ]
    unix = [r for r in records if r.get("family") == socket.AF_UNIX]
    assert inet, "the audit saw no broker connection at all"
    assert {tuple(r["address"]) for r in inet} == {("127.0.0.1", port)}, inet
    assert {r["address"] for r in unix} <= {notify_path}, unix
    lookups = {r["host"] for r in records if r["event"] == "socket.getaddrinfo"}
    assert lookups <= {"127.0.0.1"}, lookups
    other = [
        r
        for r in records
        if r.get("family") not in (None, *(socket.AF_INET, socket.AF_INET6, socket.AF_UNIX))
    ]
    assert not other, other
    exits = [r for r in records if r["event"] == "exit"]
    assert exits and all(e["hub_offline"] in (True, None) for e in exits)
    assert all(e["env_offline"] == "1" for e in exits)


def test_hearth_run_and_ask_open_sockets_only_to_the_broker(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    from speech import utterance, write_wav

    wav = write_wav(
        tmp_path / "in.wav", utterance(1.0, "Hey Jarvis.", 0.6, "Turn off the desk lamp.", 2.0)
    )
    config = write_config(tmp_path, broker.port)
    records, notify_path = _audited(
        tmp_path,
        "run",
        "--config",
        str(config),
        "--input",
        str(wav),
        "--output",
        str(tmp_path / "o.wav"),
    )
    _assert_only_the_broker(records, broker.port, notify_path)
    assert any(r.get("family") == socket.AF_UNIX for r in records)  # READY=1 went out
    assert recorder.wait_for("tasmota/desk_lamp/cmnd/POWER") == ["OFF"]

    records, notify_path = _audited(
        tmp_path, "ask", "--config", str(config), "turn on the coffee maker"
    )
    _assert_only_the_broker(records, broker.port, notify_path)
    assert recorder.wait_for("home/coffee_maker/set") == ["1"]


if __name__ == "__main__" and sys.argv[1:2] == ["--inside-namespace"]:
    sys.exit(_inside_namespace(Path(sys.argv[2]), Path(sys.argv[3])))
