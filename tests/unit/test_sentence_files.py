"""Your own sentence files: every malformed one is refused with one line naming it, before it can
reach hassil, at start and on a reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.turn.skills import load_builtin_skills
from assistant.understanding.templates import TemplateRouter

HEAD = "language: en\nintents:\n  HassTurnOn:\n    data:\n"
MALFORMED = {
    "a YAML typo": HEAD + '      - sentences:\n          - "make [the] {name} glow\n',
    "a list at the top": "- a\n- b\n",
    "intents as a list": "language: en\nintents: [1, 2]\n",
    "data as a number": "language: en\nintents:\n  HassTurnOn:\n    data: 5\n",
    "sentences as a number": HEAD + "      - sentences: 5\n",
    "an unclosed optional": HEAD + '      - sentences:\n          - "make [the {name} glow"\n',
    "an unclosed group": HEAD + '      - sentences:\n          - "(make|do {name} glow"\n',
    "an unknown list": HEAD + '      - sentences:\n          - "make {nothing_here} glow"\n',
    "an unknown rule": HEAD + '      - sentences:\n          - "make <nothing_here> glow"\n',
    "a number as a template": HEAD + "      - sentences:\n          - 12\n",
    "a context that is a number": HEAD
    + '      - sentences:\n          - "make {name} glow"\n        requires_context: 5\n',
    "slots that are a number": HEAD
    + '      - sentences:\n          - "make {name} glow"\n        slots: 7\n',
    "a list that is a number": "language: en\nlists:\n  colour: 5\nintents: {}\n",
    "a rule that does not parse": 'language: en\nexpansion_rules:\n  glow: "[open"\nintents: {}\n',
    "a data item that is a number": HEAD + "      - 5\n",
    "binary": "\x00\x01\x02",
    "deep nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
}


def router(folder: Path) -> TemplateRouter:
    return TemplateRouter("en", load_builtin_skills().intents(), [folder])


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_sentence_file_is_one_line_naming_it(case: str, tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(MALFORMED[case], encoding="latin-1")
    with pytest.raises(ConfigError) as refused:
        router(tmp_path).load()
    message = refused.value.message
    assert str(tmp_path / "mine.yaml") in message and "\n" not in message
    assert refused.value.exit_code == 78


def test_a_sentence_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "fifo.yaml")  # opening it for reading would wait for a writer
    with pytest.raises(ConfigError, match="not a regular file"):
        router(tmp_path).load()


def test_a_good_file_and_an_empty_one_load(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "glow.yaml").write_text(
        HEAD + '      - sentences:\n          - "make [the] {name} glow"\n'
    )
    loaded = router(tmp_path)
    loaded.load()
    assert loaded.route("what time is it") is not None
