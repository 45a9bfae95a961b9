"""A study partner over a small folder of course notes, with a real language model: covered
questions should be answered from the notes, the others with "I don't find that in your notes."
Run: .venv/bin/python scripts/notes_check.py [MODEL]"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus
from assistant.home.actions import MemoryPublisher
from assistant.understanding.notes import NOT_IN_NOTES

NOTES = {
    "assessment.md": "# Formative assessment\n\nFormative assessment happens during learning: "
    "quick quizzes, exit tickets and feedback that change what the teacher does next.\n\n"
    "# Summative assessment\n\nSummative assessment measures learning at the end of a unit, "
    "for example a final exam or a graded project.\n",
    "theories.md": "# Zone of proximal development\n\nVygotsky's zone of proximal development "
    "is what a learner can do with help but not yet alone.\n\n# Bloom's taxonomy\n\nBloom's "
    "taxonomy orders thinking skills from remembering and understanding up to evaluating and "
    "creating.\n",
    "classroom.txt": "Wait time is the pause of three to five seconds a teacher leaves after a "
    "question so that more students think and answer.\n",
}
COVERED = [
    ("What is summative assessment?", ("end of a unit", "final exam", "graded project")),
    ("Give an example of formative assessment", ("quiz", "exit ticket", "feedback")),
    ("What is Vygotsky's zone of proximal development?", ("help", "alone")),
    ("What does Bloom's taxonomy order?", ("thinking skills", "thinking")),
    ("How long should wait time be after a question?", ("three to five", "3 to 5", "3-5")),
]
NOT_COVERED = ["Who won the world cup in 1998?", "What is the boiling point of mercury?"]


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "qwen2.5-coder-0.5b"
    folder = Path(tempfile.mkdtemp(prefix="hearth-notes-"))
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    config = Config.model_validate(
        {
            "llm": {"enabled": True, "model": model, "timeout_s": 120.0},
            "assistant": {"profile": "study_partner"},
            "profiles": {"study_partner": {"knowledge_dir": str(folder)}},
        }
    )
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    hearth.prepare()
    right, times = 0, []
    for question, accepted in COVERED:
        started = time.perf_counter()
        reply = hearth.answerer().run_text(question).reply
        times.append(time.perf_counter() - started)
        ok = any(a in reply.lower() for a in accepted)
        right += ok
        print(f"{'ok ' if ok else 'BAD'} {question} -> {reply}")
    refused = 0
    for question in NOT_COVERED:
        reply = hearth.answerer().run_text(question).reply
        refused += reply == NOT_IN_NOTES
        print(f"{'ok ' if reply == NOT_IN_NOTES else 'BAD'} {question} -> {reply}")
    print(
        f"{model}: {right}/{len(COVERED)} covered questions answered from the notes, "
        f"{refused}/{len(NOT_COVERED)} others refused; median {statistics.median(times):.1f} s"
    )


if __name__ == "__main__":
    main()
