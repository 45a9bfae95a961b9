"""An authenticated connection to Home Assistant's websocket API (``/api/websocket``).

``websocket-client`` (``import websocket``) carries it; one reader thread hands each answer to
the call waiting for it and each subscription event to that subscription's queue.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import websocket

__all__ = ["HaError", "HaWebSocket"]


class HaError(RuntimeError):
    """Home Assistant did not start, refused a request or answered an error."""


class HaWebSocket:
    """An authenticated ``/api/websocket`` connection: ``call`` and ``subscribe``."""

    def __init__(self, url: str, token: str, timeout_s: float = 30) -> None:
        self._timeout_s = timeout_s
        self._socket = websocket.create_connection(
            url.replace("http", "ws", 1) + "/api/websocket", timeout=timeout_s
        )
        hello = json.loads(self._socket.recv())
        if hello.get("type") != "auth_required":
            raise HaError(f"unexpected websocket greeting: {hello}")
        self._socket.send(json.dumps({"type": "auth", "access_token": token}))
        answer = json.loads(self._socket.recv())
        if answer.get("type") != "auth_ok":
            raise HaError(f"websocket auth failed: {answer}")
        self._socket.settimeout(None)
        self._next_id = 1
        self._lock = threading.Lock()
        self._results: dict[int, queue.SimpleQueue[dict[str, Any]]] = {}
        self._events: dict[int, queue.SimpleQueue[dict[str, Any]]] = {}
        self._reader = threading.Thread(target=self._read, name="ha-websocket", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                raw = self._socket.recv()
            except (websocket.WebSocketException, OSError):
                return
            if not raw:
                return
            message = json.loads(raw)
            message_id = int(message.get("id", 0))
            if message.get("type") == "event":
                if (events := self._events.get(message_id)) is not None:
                    events.put(message["event"])
            elif (result := self._results.get(message_id)) is not None:
                result.put(message)

    def _send(
        self,
        kind: str,
        fields: dict[str, Any],
        events: queue.SimpleQueue[Any] | None = None,
    ) -> int:
        with self._lock:
            message_id = self._next_id
            self._next_id += 1
            self._results[message_id] = queue.SimpleQueue()
            if events is not None:
                self._events[message_id] = events
            payload = {"id": message_id, "type": kind}
            payload.update({k: v for k, v in fields.items() if v is not None})
            self._socket.send(json.dumps(payload))
        return message_id

    def _result(self, message_id: int) -> Any:
        try:
            answer = self._results[message_id].get(timeout=self._timeout_s)
        except queue.Empty:
            raise HaError(f"no websocket answer to message {message_id}") from None
        finally:
            self._results.pop(message_id, None)
        if not answer.get("success"):
            raise HaError(f"websocket call failed: {answer.get('error')}")
        return answer.get("result")

    def call(self, kind: str, **fields: Any) -> Any:
        """Send ``{"type": kind, **fields}``; the result, or HaError if it failed."""
        return self._result(self._send(kind, fields))

    def subscribe(self, kind: str = "subscribe_events", **fields: Any) -> queue.SimpleQueue[Any]:
        """Start a subscription (default: ``subscribe_events``; pass ``event_type=``);
        a queue that receives each event's ``event`` field."""
        events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._result(self._send(kind, fields, events))
        return events

    def subscribe_state_changed(self) -> queue.SimpleQueue[Any]:
        """Events ``{"event_type": "state_changed", "data": {"entity_id", "old_state",
        "new_state"}, ...}``."""
        return self.subscribe(event_type="state_changed")

    def close(self) -> None:
        self._socket.close()
        self._reader.join(timeout=5)

    def __enter__(self) -> HaWebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
