"""Router accuracy on the table in tests/support/router_table.py: sentence templates alone, and
templates then the configured language model (layer 2). Run: .venv/bin/python
scripts/router_accuracy.py [--llm]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from router_table import ENTITIES, TABLE, matches

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus
from assistant.home.actions import MemoryPublisher
from assistant.turn.record import TurnRecord


def main() -> None:
    use_llm = "--llm" in sys.argv
    config = Config.model_validate({"entities": ENTITIES, "llm": {"enabled": use_llm}})
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    layer1 = layer2 = 0
    llm_ms: list[float] = []
    for text, intent, slots in TABLE:
        result = hearth.router.match(text)
        if matches(result, intent, slots):
            layer1 += 1
            print(f"  template  ok   {text}")
            continue
        if result is not None:
            print(f"  template  WRONG {text} -> {result.intent} {result.slots}")
            continue
        if not use_llm:
            print(f"  template  miss {text}")
            continue
        started = time.perf_counter()
        decided = hearth.router.call_tool(TurnRecord(), text, [], lambda: None)
        llm_ms.append(1000 * (time.perf_counter() - started))
        ok = matches(decided, intent, slots)
        layer2 += ok
        got = f"{decided.intent} {decided.slots}" if decided else "none"
        print(f"  llm       {'ok  ' if ok else 'miss'} {text} -> {got} ({llm_ms[-1]:.0f} ms)")
    total = len(TABLE)
    print(f"layer 1 alone: {layer1}/{total} ({100 * layer1 / total:.0f} %)")
    if use_llm:
        print(f"layers 1+2:    {layer1 + layer2}/{total} ({100 * (layer1 + layer2) / total:.0f} %)")
        if llm_ms:
            llm_ms.sort()
            print(
                f"layer 2 time: median {llm_ms[len(llm_ms) // 2]:.0f} ms, max {llm_ms[-1]:.0f} ms"
            )


if __name__ == "__main__":
    main()
