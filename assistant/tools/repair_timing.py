"""What the repair of template near-misses costs on this machine (``hearth bench``): the bench's
own Kitchen Light, misheard and said in other words."""

from __future__ import annotations

import statistics
import time
from typing import Any, Final

from ..understanding.router import Router

__all__ = ["NEAR_MISSES", "time_repair"]

NEAR_MISSES: Final = (
    "turn of the kitchen light",
    "turn on the kitchen lite",
    "kill the kitchen light",
    "it's dark, switch on the kitchen light",
    "sent the kitchen light to 30%",
    "dim the kitchen lite to 40 percent",
)
_ROUNDS: Final = 5


def time_repair(router: Router) -> dict[str, Any]:
    """Median and 90th percentile in milliseconds of :meth:`Router.repair` over
    :data:`NEAR_MISSES`, and how many of them were repaired."""
    times: list[float] = []
    repaired = 0
    for round_ in range(_ROUNDS):
        for text in NEAR_MISSES:
            started = time.perf_counter()
            route = router.repair(text)
            times.append(1000 * (time.perf_counter() - started))
            repaired += int(route is not None and round_ == 0)
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(ordered[round(0.9 * (len(ordered) - 1))], 1),
        "n": len(times),
        "repaired": f"{repaired}/{len(NEAR_MISSES)}",
    }
