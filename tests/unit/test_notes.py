"""A study partner's notes: passages found by BM25, a question they do not cover, edited notes
picked up without a restart, and the turn's event and explanation."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from assistant.assemble import assemble
from assistant.config import Config
from assistant.errors import ConfigError
from assistant.events import EventBus, NotesSearched, event_to_json
from assistant.home.actions import MemoryPublisher
from assistant.journal.explain import _step
from assistant.understanding.notes import NOT_IN_NOTES, CourseNotes

NOTES = {
    "week1.md": (
        "# Formative assessment\n\nFormative assessment happens during learning: quick quizzes, "
        "exit tickets and feedback that change what the teacher does next.\n\n"
        "# Summative assessment\n\nSummative assessment measures learning at the end of a unit, "
        "for example a final exam or a graded project.\n"
    ),
    "week2.txt": "Bloom's taxonomy orders thinking skills from remembering and understanding "
    "up to evaluating and creating.\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, text in NOTES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_passage_that_covers_a_question_is_found(folder: Path) -> None:
    notes = CourseNotes(folder)
    found = notes.search("What is summative assessment?")
    assert found[0].label == "week1.md#Summative assessment"
    assert "final exam" in found[0].text
    assert notes.search("what does bloom's taxonomy order")[0].source == "week2.txt"


def test_a_question_the_notes_do_not_cover_finds_nothing(folder: Path) -> None:
    notes = CourseNotes(folder)
    assert notes.search("What is the capital of France?") == []
    assert notes.search("what is it") == []


def test_edited_notes_are_picked_up_without_a_restart(folder: Path) -> None:
    notes = CourseNotes(folder)
    assert notes.search("what is scaffolding in teaching") == []
    note = folder / "week3.md"
    note.write_text("# Scaffolding\n\nScaffolding is temporary support in teaching.\n")
    assert notes.search("what is scaffolding in teaching")[0].source == "week3.md"
    note.write_text("# Scaffolding\n\nScaffolding means support that is withdrawn.\n")
    later = time.time() + 5
    os.utime(note, (later, later))
    assert "withdrawn" in notes.search("what is scaffolding")[0].text
    note.unlink()
    assert notes.search("what is scaffolding") == []


def study_partner(folder: Path) -> tuple[object, list[object]]:
    config = Config.model_validate(
        {
            "llm": {"enabled": False},
            "assistant": {"profile": "study_partner"},
            "profiles": {"study_partner": {"knowledge_dir": str(folder)}},
        }
    )
    bus = EventBus()
    events: list[object] = []
    bus.subscribe(events.append)
    hearth = assemble(config, bus=bus, publisher=MemoryPublisher(), listen=False, speak=False)
    return hearth.answerer(), events


def test_the_study_partner_answers_from_the_notes_or_says_it_cannot(folder: Path) -> None:
    answerer, events = study_partner(folder)
    record = answerer.run_text("what is formative assessment")  # type: ignore[attr-defined]
    assert "exit tickets" in record.reply
    searched = [e for e in events if isinstance(e, NotesSearched)]
    assert searched[-1].passages == ("week1.md#Formative assessment",)
    explained = _step(event_to_json(searched[-1]), {})
    assert explained == "the answer was to come from the notes: week1.md#Formative assessment"
    record = answerer.run_text("who won the world cup in 1998")  # type: ignore[attr-defined]
    assert record.reply == NOT_IN_NOTES and record.outcome == "not_in_notes"


def test_a_missing_notes_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises((ConfigError, ValueError), match="folder not found"):
        Config.model_validate({"profiles": {"p": {"knowledge_dir": str(tmp_path / "none")}}})
