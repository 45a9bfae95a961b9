"""A real Home Assistant on a loopback port, for the acceptance tests (``pytest -m ha``).

:func:`start_home_assistant` writes a fresh configuration folder, starts ``hass --skip-pip``
from the virtual environment ``scripts/setup-ha.sh`` made (``$HA_VENV``, else ``.venv-ha`` at
the top of the repository), waits for its HTTP server, onboards it through the REST API (owner,
tokens, core configuration, analytics left off, the integration step) and returns a
:class:`HomeAssistant`. :meth:`HomeAssistant.add_mqtt` adds the MQTT integration through the
config-flow REST API. Only the standard library and ``websocket-client`` are used here, so this
runs in Hearth's test environment while Home Assistant runs on Python 3.13 in its own.

Home Assistant talks to 127.0.0.1 only: the configuration loads no discovery, cloud or update
integration (``default_config`` is left out), and only the loopback adapter is enabled, so the
mDNS resolver every aiohttp session brings binds port 5353 but joins no multicast group. The
core-configuration step of onboarding starts flows for google_translate, met, radio_browser and
shopping_list; without their Python packages they fail before reaching the network (errors in
the log before the MQTT integration is added), and their config entries are deleted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from broker import free_port
from ha_logfile import LogRecord, inet_sockets, parse_log
from ha_websocket import HaError, HaWebSocket

__all__ = ["HA_VENV", "HaError", "HomeAssistant", "LogRecord", "start_home_assistant"]

HA_VENV: Final = Path(os.environ.get("HA_VENV") or Path(__file__).parents[2] / ".venv-ha")
_OWNER: Final = {"name": "Hearth Test", "username": "hearth", "password": "hearth-test-password"}
_POLL_S: Final = 0.2
_PROBLEMS: Final = frozenset({"WARNING", "ERROR", "CRITICAL"})

# What the tests need beyond the integrations Home Assistant always sets up (frontend, backup,
# logger, network, person, zone...): http on loopback, the REST and websocket APIs, config and
# onboarding, energy for its validation, and the recorder whose statistics energy needs.
_CONFIGURATION_YAML: Final = """\
homeassistant:
  name: Hearth acceptance
  latitude: 52.3731
  longitude: 4.8922
  elevation: 0
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: NL
  language: en
  internal_url: http://127.0.0.1:{port}
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
websocket_api:
config:
onboarding:
energy:
recorder:
  commit_interval: 1
  purge_keep_days: 1
logger:
  default: warning
  logs:
    homeassistant.components.mqtt: info
"""


@dataclass
class HomeAssistant:
    """A ``hass`` process, its configuration folder, port and long-lived access token."""

    config_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    token: str = ""
    started_at: float = field(default_factory=time.monotonic)
    ready_s: float = 0.0  # from start to onboarded and running

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.config_dir / "home-assistant.log"

    # -- REST --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        form: dict[str, str] | None = None,
        timeout_s: float = 30,
    ) -> Any:
        """One REST call; its JSON answer (or text). Raises HaError on an HTTP error."""
        headers: dict[str, str] = {}
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if bearer := self.token if token is None else token:
            headers["Authorization"] = f"Bearer {bearer}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as answer:
                raw = answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:500]
            raise HaError(f"{method} {path}: HTTP {err.code}: {detail}") from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """``GET /api/states/<entity_id>``; ``None`` for an entity it does not have."""
        try:
            return dict(self.request("GET", f"/api/states/{entity_id}"))
        except HaError as err:
            if "HTTP 404" in str(err):
                return None
            raise

    def wait_state(
        self, entity_id: str, check: Callable[[dict[str, Any]], bool], timeout_s: float = 30
    ) -> dict[str, Any]:
        """The entity's state once ``check(state)`` holds; HaError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.state(entity_id)
            if found is not None and check(found):
                return found
            if time.monotonic() > deadline:
                raise HaError(f"{entity_id} did not reach the expected state: {found}")
            time.sleep(_POLL_S)

    # -- websocket ---------------------------------------------------------------------------

    def ws(self) -> HaWebSocket:
        """A new authenticated websocket connection (a context manager)."""
        return HaWebSocket(self.url, self.token)

    def call(self, kind: str, **fields: Any) -> Any:
        """One websocket command on a connection of its own."""
        with self.ws() as ws:
            return ws.call(kind, **fields)

    def call_service(self, domain: str, service: str, entity_id: str, **data: Any) -> Any:
        return self.call(
            "call_service",
            domain=domain,
            service=service,
            service_data=data,
            target={"entity_id": entity_id},
        )

    def registry_by_unique_id(self) -> dict[str, dict[str, Any]]:
        """The MQTT entities in the entity registry, by unique id."""
        entries = self.call("config/entity_registry/list")
        return {e["unique_id"]: e for e in entries if e.get("platform") == "mqtt"}

    # -- start-up ----------------------------------------------------------------------------

    def _wait_http(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HaError(f"hass exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.request("GET", "/api/onboarding", token="", timeout_s=2)
                return
            except (OSError, HaError):
                time.sleep(_POLL_S)
        raise HaError(f"no HTTP answer on port {self.port} in {timeout_s:g} s:\n{self.log_tail()}")

    def _onboard(self) -> None:
        """Owner, tokens, core configuration, analytics (off), the integration step; then a
        long-lived token for everything else."""
        client_id = f"{self.url}/"
        owner = {"client_id": client_id, "language": "en", **_OWNER}
        created = self.request("POST", "/api/onboarding/users", owner, token="")
        grant = {"grant_type": "authorization_code", "code": created["auth_code"]}
        tokens = self.request("POST", "/auth/token", form={**grant, "client_id": client_id})
        access = tokens["access_token"]
        self.request("POST", "/api/onboarding/core_config", {}, token=access)
        self.request("POST", "/api/onboarding/analytics", {}, token=access)
        callback = {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"}
        self.request("POST", "/api/onboarding/integration", callback, token=access)
        with HaWebSocket(self.url, access) as ws:
            token = ws.call("auth/long_lived_access_token", client_name="hearth", lifespan=30)
        self.token = str(token)

    def _remove_onboarding_entries(self, timeout_s: float = 30) -> None:
        """Wait for the flows the core-configuration step started, then delete their entries."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            flows = self.call("config_entries/flow/progress")
            if not [f for f in flows if f.get("context", {}).get("source") == "onboarding"]:
                break
            time.sleep(_POLL_S)
        for entry in self.request("GET", "/api/config/config_entries/entry"):
            if entry.get("source") == "onboarding":
                self.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")

    def _wait_running(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (state := self.request("GET", "/api/config").get("state")) != "RUNNING":
            if time.monotonic() > deadline:
                raise HaError(f"Home Assistant is {state} after {timeout_s:g} s")
            time.sleep(_POLL_S)

    def add_mqtt(self, port: int, timeout_s: float = 60) -> None:
        """The MQTT integration on 127.0.0.1:``port`` (discovery on, prefix
        ``homeassistant``), added through the config flow; returns once it is loaded."""
        flow = self.request("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
        if flow.get("step_id") != "broker":
            raise HaError(f"unexpected MQTT flow step: {flow}")
        broker = {"broker": "127.0.0.1", "port": port}
        done = self.request("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", broker)
        if done.get("type") != "create_entry":
            raise HaError(f"the MQTT flow did not create an entry: {done}")
        entry_id = done["result"]["entry_id"]
        deadline = time.monotonic() + timeout_s
        while True:
            entries = self.request("GET", "/api/config/config_entries/entry?domain=mqtt")
            state = next((e["state"] for e in entries if e["entry_id"] == entry_id), None)
            if state == "loaded":
                return
            if time.monotonic() > deadline:
                raise HaError(f"the MQTT entry is {state} after {timeout_s:g} s")
            time.sleep(_POLL_S)

    # -- what it leaves behind ---------------------------------------------------------------

    def log_mark(self) -> int:
        """How many records the log has now: pass it as ``since`` to see only later ones."""
        return sum(1 for _ in parse_log(self.log_path))

    def log_records(
        self, containing: str = "", levels: frozenset[str] = _PROBLEMS, since: int = 0
    ) -> list[LogRecord]:
        """Log records at ``levels`` from record ``since`` on whose logger or text (with its
        continuation lines) contains ``containing``, in any case."""
        wanted = containing.lower()
        return [
            record
            for index, record in enumerate(parse_log(self.log_path))
            if index >= since
            and record.level in levels
            and wanted in f"{record.logger} {record.message}".lower()
        ]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return "(no log yet)"

    def sockets(self) -> list[tuple[str, str, str]]:
        """(protocol, local address, remote address) of every inet socket hass holds."""
        return inet_sockets(self.process.pid)

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM, then SIGKILL after ``timeout_s``; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)


def start_home_assistant(
    config_dir: Path, venv: Path = HA_VENV, timeout_s: float = 300
) -> HomeAssistant:
    """``hass`` on a fresh ``config_dir`` (created; must not exist yet), onboarded and running.
    Raises HaError, after stopping it, if it does not come up within ``timeout_s``."""
    hass = venv / "bin" / "hass"
    if not hass.exists():
        raise HaError(f"{hass} is missing: run `make ha-venv` (scripts/setup-ha.sh) first")
    storage = config_dir / ".storage"
    storage.mkdir(parents=True)
    # only the loopback adapter: the mDNS resolver joins no multicast group on a real network
    adapters = {"configured_adapters": ["lo"]}
    network = {"version": 1, "minor_version": 1, "key": "core.network", "data": adapters}
    (storage / "core.network").write_text(json.dumps(network))
    port = free_port()
    (config_dir / "configuration.yaml").write_text(_CONFIGURATION_YAML.format(port=port))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("SUPERVISOR", None)
    with open(config_dir / "hass.stderr", "wb") as stderr:
        process = subprocess.Popen(
            [str(hass), "--config", str(config_dir), "--skip-pip", "--log-no-color"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
    instance = HomeAssistant(config_dir, port, process)
    try:
        instance._wait_http(timeout_s)
        instance._onboard()
        instance._remove_onboarding_entries()
        instance._wait_running(max(1.0, timeout_s - (time.monotonic() - instance.started_at)))
    except BaseException:
        instance.stop()
        raise
    instance.ready_s = time.monotonic() - instance.started_at
    return instance
