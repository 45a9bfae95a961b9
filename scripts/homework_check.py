"""The homework-helper profile on the question set of tests/support/homework_questions.py,
with the configured (or given) language model. Run:
.venv/bin/python scripts/homework_check.py [MODEL]"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from homework_questions import HOMEWORK_PROMPT, QUESTIONS

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus
from assistant.home.actions import MemoryPublisher


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "qwen2.5-coder-0.5b"
    config = Config.model_validate(
        {
            "llm": {"enabled": True, "model": model, "timeout_s": 120.0},
            "assistant": {"profile": "homework_helper"},
            "profiles": {"homework_helper": {"system_prompt": HOMEWORK_PROMPT, "skills": []}},
        }
    )
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    hearth.prepare()
    right, times, rows = 0, [], []
    for question, accepted in QUESTIONS:
        started = time.perf_counter()
        record = hearth.answerer().run_text(question)
        times.append(time.perf_counter() - started)
        ok = any(word in record.reply.lower() for word in accepted)
        right += int(ok)
        rows.append({"q": question, "ok": ok, "reply": record.reply})
    print(json.dumps(rows, indent=1))
    print(
        f"{model}: {right}/{len(QUESTIONS)} right ({right / len(QUESTIONS):.0%}); "
        f"median {statistics.median(times):.1f} s a question"
    )


if __name__ == "__main__":
    main()
