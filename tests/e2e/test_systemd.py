"""systemd/hearth.service: it verifies, it matches the daemon, and its hardening holds a real turn.

No systemd runs as PID 1 here, so the unit cannot be started. scripts/sandbox.py applies what the
unit's [Service] section asks for with the kernel mechanisms systemd itself uses (a private mount
namespace, a dynamic user, seccomp filters built from this machine's systemd-analyze lists), and a
spoken turn runs through it with the real models: wake word, VAD, whisper, router, MQTT publish
to a broker that wants the password passed as a systemd credential, Piper; llama.cpp generates
text under it too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import Broker, Recorder, free_port
from hearth_cli import HEARTH, write_config
from speech import read_wav, utterance, write_wav

from assistant.config import MqttConfig
from assistant.errors import EX_CONFIG
from assistant.mqtt.link import CREDENTIAL, password_path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "hearth.service"
SANDBOX = ROOT / "scripts" / "sandbox.py"
PROBE = ROOT / "tests" / "support" / "sandbox_probe.py"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install systemd")
    return found


def _settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _local_unit(tmp_path: Path, hearth: str) -> Path:
    """The unit with ExecStart pointing at ``hearth`` (the real one lives in /opt/hearth)."""
    folder = tmp_path / "units"
    folder.mkdir(exist_ok=True)
    unit = folder / "hearth.service"
    unit.write_text(UNIT.read_text().replace("/opt/hearth/.venv/bin/hearth", hearth))
    return unit


# The sandbox builds a mount namespace and switches to a dynamic user, as systemd does: root only.
AS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0, reason="the systemd sandbox emulation needs root (CI runs as root)"
)


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    done = subprocess.run(
        [analyze, "verify", str(_local_unit(tmp_path, HEARTH))], capture_output=True, text=True
    )
    assert done.returncode == 0 and "hearth.service" not in done.stderr, done.stderr
    # the same check refuses a unit whose daemon is missing: it does look at the file
    (tmp_path / "missing").mkdir()
    missing = _local_unit(tmp_path / "missing", "/nonexistent/hearth")
    refused = subprocess.run([analyze, "verify", str(missing)], capture_output=True, text=True)
    assert refused.returncode != 0 and "/nonexistent/hearth" in refused.stderr


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            _tool("systemd-analyze"),
            "security",
            "--offline=true",
            str(_local_unit(tmp_path, HEARTH)),
        ],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for hearth.service: ([\d.]+) (\w+)", done.stdout)
    assert found, done.stdout[-2000:] + done.stderr
    print(f"systemd-analyze security: {found.group(1)} {found.group(2)}")
    assert float(found.group(1)) < 2.0, done.stdout  # the unhardened unit was 6.1 MEDIUM


def test_the_unit_matches_the_daemon() -> None:
    settings = _settings()
    assert settings["Type"] == ["notify"] and settings["NotifyAccess"] == ["main"]
    assert settings["RestartPreventExitStatus"] == [str(EX_CONFIG)]
    assert settings["Restart"] == ["on-failure"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # Hearth exits within 5 s of SIGTERM; systemd must not kill it sooner
    assert float(settings["TimeoutStopSec"][0]) >= 5
    assert settings["LoadCredential"] == [f"{CREDENTIAL}:/etc/hearth/mqtt_password"]
    assert settings["StateDirectory"] == ["hearth"] and settings["DynamicUser"] == ["yes"]


def test_the_password_comes_from_the_file_else_from_the_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert password_path(MqttConfig()) == ""  # no credential passed
    (credentials / CREDENTIAL).write_text("")
    assert password_path(MqttConfig()) == ""  # an empty one, for an anonymous broker
    (credentials / CREDENTIAL).write_text("s3cret\n")
    assert password_path(MqttConfig()) == str(credentials / CREDENTIAL)
    own = tmp_path / "password"
    assert password_path(MqttConfig(password_file=str(own))) == str(own)  # the file wins
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert password_path(MqttConfig()) == ""


# --- the hardening, emulated, around real runs -------------------------------------------------


def _sandbox(*args: str) -> list[str]:
    """The unit's sandbox around a command. The checkout (with its .venv) stays readable, as
    /opt/hearth is for the service, wherever it lies: a clone under /tmp would otherwise vanish
    behind PrivateTmp."""
    checkout = str(Path(__file__).resolve().parents[2])
    return [sys.executable, str(SANDBOX), "--unit", str(UNIT), "--ro", checkout, *args]


CHECKS = r"""
import ctypes, errno, mmap, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(number, *args):
    return libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args))
def refused(what, call):
    try:
        call()
    except OSError as err:
        return
    sys.exit(f"{what} was allowed")
def must(ok, what):
    ok or sys.exit(what)
must(os.getuid() != 0 and os.getgid() != 0, "runs as root")
status = open("/proc/self/status").read()
must("NoNewPrivs:\t1" in status, "new privileges possible")
must("CapBnd:\t0000000000000000" in status, "capabilities kept")
umask = os.umask(0)
os.umask(umask)
must(umask == 0o077, "umask is not 0077")
must(os.statvfs("/usr").f_flag & os.ST_RDONLY, "/usr is writable")
must(not os.statvfs(sys.argv[1]).f_flag & os.ST_RDONLY, "the state folder is read-only")
refused("writing /etc", lambda: open("/etc/hearth-test", "w"))
refused("reading /root", lambda: os.listdir("/root/.ssh"))
refused("a packet socket", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
refused("a vsock socket", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
must(not os.path.exists(sys.argv[2]), "the host's /tmp is visible")
must(libc.unshare(0x10000000) != 0, "a new user namespace")  # allowed to anyone otherwise
# perf_event_open(NULL, ...) is EFAULT for anyone; in @debug, outside @system-service: EPERM
must(call(298, 0, 0, -1, -1, 0) != 0 and ctypes.get_errno() == errno.EPERM, "perf_event_open")
must(call(169, 0, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EPERM, "reboot")
must(libc.sethostname(b"x", 1) != 0, "sethostname")
must(len([p for p in os.listdir("/proc") if p.isdigit()]) < 20, "other users' processes shown")
open(os.path.join(sys.argv[1], "written"), "w").write("ok")
print("hardening in force")
"""


@AS_ROOT
def test_the_emulated_hardening_is_in_force(tmp_path: Path) -> None:
    """The sandbox does refuse what the unit forbids, so a turn that works in it means something."""
    state = tmp_path / "state"
    state.mkdir()
    outside = tmp_path / "outside"
    outside.write_text("in the host's /tmp")
    done = subprocess.run(
        [
            *_sandbox("--rw", str(state), "--"),
            sys.executable,
            "-c",
            CHECKS,
            str(state),
            str(outside),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "hardening in force" in done.stdout, done.stderr
    written = state / "written"
    assert written.stat().st_mode & 0o777 == 0o600 and written.stat().st_uid != 0


def _probe(stage: str, wav: Path, *sandbox_args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *_sandbox(*sandbox_args, "--ro", str(wav), "--"),
            sys.executable,
            str(PROBE),
            stage,
            str(wav),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def command_wav(tmp_path: Path) -> Path:
    os.chmod(tmp_path, 0o755)
    return write_wav(tmp_path / "command.wav", utterance(0.5, "Turn on the kitchen light.", 0.5))


@AS_ROOT
def test_llama_cpp_generates_under_the_units_hardening(command_wav: Path) -> None:
    """The spoken turn below is answered by the sentence templates; this loads the language
    model and generates text under the same hardening."""
    done = _probe("llm", command_wav)
    assert done.returncode == 0 and done.stdout.startswith("ok llm"), done.stdout + done.stderr


@AS_ROOT
def test_the_options_left_out_still_break_a_runtime(command_wav: Path) -> None:
    """The unit's comments say why MemoryDenyWriteExecute= and ProcSubset= are left out; when
    this fails, a runtime has changed and the option may go in."""
    no_jit = _probe("stt", command_wav, "--add", "MemoryDenyWriteExecute")
    assert no_jit.returncode != 0, no_jit.stdout
    assert "could not create a primitive" in no_jit.stdout, no_jit.stdout + no_jit.stderr
    no_cpuinfo = _probe("vad", command_wav, "--add", "ProcSubset")
    assert "cpuinfo" in no_cpuinfo.stderr, no_cpuinfo.stderr


@pytest.fixture
def password_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, int]]:
    """A mosquitto whose first listener wants hearth's password; the second is for the
    recorder. Returns the broker (its port is the recorder's) and the password port."""
    work = tmp_path_factory.mktemp("secure-broker")
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(work / "passwd"), "hearth", "s3cret"],
        check=True,
        capture_output=True,
    )
    secure, open_port = free_port(), free_port()
    broker = Broker(open_port, work)
    conf = work / "mosquitto.conf"
    conf.write_text(
        "per_listener_settings true\nuser root\npersistence false\n"
        f"listener {secure} 127.0.0.1\nallow_anonymous false\npassword_file {work}/passwd\n"
        f"listener {open_port} 127.0.0.1\nallow_anonymous true\n"
    )
    broker.process = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", open_port), timeout=0.2).close()
            socket.create_connection(("127.0.0.1", secure), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield broker, secure
    broker.stop()


class NotifySocket:
    """A datagram socket in place of systemd's, keeping every message Hearth sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[str] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        os.chmod(path, 0o777)  # the dynamic user sends to it, as to /run/systemd/notify
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self._sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@AS_ROOT
def test_a_spoken_turn_works_under_the_units_hardening(
    tmp_path: Path, password_broker: tuple[Broker, int]
) -> None:
    broker, secure_port = password_broker
    recorder = Recorder(broker.port)
    etc, state, cache, run = (tmp_path / name for name in ("etc", "state", "cache", "run"))
    credentials = run / "credentials"
    for folder in (etc, state, cache, credentials):
        folder.mkdir(parents=True)
    # /etc/hearth/config.toml: no password_file; the password comes as the credential
    config = write_config(etc, secure_port, extra='username = "hearth"', node_id="sealed")
    (credentials / CREDENTIAL).write_text("s3cret\n")
    wav_in = write_wav(
        etc / "in.wav", utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 2.0)
    )
    for path in (tmp_path, etc, run):
        os.chmod(path, 0o755)
    for path in (config, wav_in):
        os.chmod(path, 0o644)
    notify = NotifySocket(run / "notify")
    env = {
        "PATH": "/usr/bin:/bin",
        "STATE_DIRECTORY": str(state),
        "CACHE_DIRECTORY": str(cache),
        "CREDENTIALS_DIRECTORY": str(credentials),
        "HOME": str(state),
        "XDG_CACHE_HOME": str(cache),
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": "200000",  # a ping every 0.1 s
    }
    try:
        done = subprocess.run(
            [
                *_sandbox(
                    "--ro", str(etc), "--ro", str(run), "--rw", str(state), "--rw", str(cache)
                ),
                "--",
                HEARTH,
                "run",
                "--config",
                str(config),
                "--input",
                str(wav_in),
                "--output",
                str(state / "reply.wav"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )
    finally:
        notify.close()
        recorder.wait_for("hearth/sealed/availability", 2, timeout_s=5)
        recorder.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "sandbox: " in done.stderr and "SystemCallFilter" in done.stderr  # it did run sealed
    # the turn: wake word, whisper, router, the publish, the reply spoken by Piper
    device = [p for t, p, _ in recorder.messages if t == "zigbee2mqtt/kitchen_light/set"]
    assert device == ['{"state":"ON"}']
    reply = [json.loads(p) for p in recorder.on("hearth/sealed/event/reply")]
    assert [r["text"] for r in reply] == ["Turned on the Kitchen Light."]
    audio, rate_hz = read_wav(state / "reply.wav")
    assert len(audio) / rate_hz > 0.5 and abs(audio).max() > 1000
    # the notify protocol got through: ready, status, watchdog pings, stopping
    sent = "\n".join(notify.messages)
    assert "READY=1" in sent and "STATUS=" in sent and "STOPPING=1" in sent, sent
    assert "WATCHDOG=1" in sent, sent
    # what it wrote is in the state folder, the dynamic user's, and private (UMask=0077)
    written = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in written), written
    assert all(p.stat().st_uid != 0 and p.stat().st_mode & 0o077 == 0 for p in written)
