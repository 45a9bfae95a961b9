"""Router layer 3: the language model's own short answer, spoken sentence by sentence.

A free answer never acts on the home, so it never says it did: a sentence that claims a home
action ("The ceiling fan was turned off.", "I've unlocked the door") is not spoken, and
:data:`NOTHING_DONE` is said in its place, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

from ..config import LlmConfig
from .language_model import Exchange, LanguageModel, Message

__all__ = ["ANSWER_PROMPT", "NOTHING_DONE", "FreeAnswerer", "claims_an_action", "split_sentences"]

ANSWER_PROMPT: Final = (
    "You are Hearth, a friendly voice assistant in a home. Your words are spoken aloud: answer "
    "in one or two short sentences of plain words, with no lists, markdown or emoji."
)
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")
NOTHING_DONE: Final = "I haven't changed anything in the home."
_DONE: Final = (
    r"(?:turned|switched|powered|shut|set|opened|closed|locked|unlocked|dimmed|brightened"
    r"|started|stopped|activated|deactivated|enabled|disabled|raised|lowered|adjusted|changed)"
)
_CLAIM: Final = re.compile(
    rf"\b(?:i|i've|i have|i just|i'll|i will|i'm|i am|okay|ok|done|sure)\W+(?:\w+\W+)?"
    rf"(?:{_DONE}|turn|switch|set|open|close|lock|unlock|dim|start|stop|turning|switching)\b"
    rf"|\b(?:is|are|was|were|has been|have been|now)\s+(?:now\s+)?(?:{_DONE}|on|off|open)\b"
    rf"|\b{_DONE}\s+(?:on|off|up|down)\b",
    re.IGNORECASE,
)


def claims_an_action(sentence: str) -> bool:
    """Whether ``sentence`` says the home was (or is being) acted on: "The fan was turned
    off.", "I've switched on the kitchen light.", "Done, the door is locked."."""
    return _CLAIM.search(sentence.replace("\u2019", "'")) is not None


def without_claims(sentences: Iterator[str]) -> Iterator[str]:
    """The sentences, with any that claims a home action replaced by :data:`NOTHING_DONE`
    (once)."""
    said = False
    for sentence in sentences:
        if not claims_an_action(sentence):
            yield sentence
        elif not said:
            said = True
            yield NOTHING_DONE


def _recorded(pieces: Iterator[str], exchange: Exchange) -> Iterator[str]:
    """Pass the pieces on, keeping their text as the exchange's output."""
    exchange.outputs.append("")
    for piece in pieces:
        exchange.outputs[-1] += piece
        yield piece


def split_sentences(pieces: Iterator[str]) -> Iterator[str]:
    """Join text pieces and yield each sentence (ending in ``.``, ``!`` or ``?`` followed by
    white space) as soon as it is complete; the rest when the pieces end."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        *done, buffer = _SENTENCE_END.split(buffer)
        for sentence in done:
            if sentence.strip():
                yield sentence.strip()
    if buffer.strip():
        yield buffer.strip()


class FreeAnswerer:
    """Layer 3 over one language model. Hearth's own instructions come first, then a profile's
    persona; the same string for as long as the persona is the same, so the model's cache
    keeps it."""

    layer = "llm_answer"

    def __init__(self, model: LanguageModel, config: LlmConfig) -> None:
        self._model = model
        self._config = config
        self._answer_prompt: tuple[str, str] | None = None
        self.last_exchange: Exchange | None = None  # the latest answer()

    @property
    def model(self) -> LanguageModel:
        return self._model

    def answer(
        self,
        text: str,
        history: Sequence[Message],
        system_prompt: str,
        max_tokens: int,
        deadline_s: float,
    ) -> Iterator[str]:
        """A free answer, one sentence at a time as the model writes it; at most ``max_tokens``
        tokens, and it stops ``deadline_s`` seconds after this call. ``system_prompt`` adds
        instructions (a profile's persona) after Hearth's own."""
        messages: list[Message] = [
            {"role": "system", "content": self._answer_system(system_prompt)},
            *history,
            {"role": "user", "content": text},
        ]
        exchange = self.last_exchange = Exchange("llm_answer", list(messages))
        pieces = self._model.stream(messages, max_tokens, deadline_s)
        return without_claims(split_sentences(_recorded(pieces, exchange)))

    def _answer_system(self, extra: str) -> str:
        if self._answer_prompt is None or self._answer_prompt[0] != extra:
            full = f"{ANSWER_PROMPT}\n{extra.strip()}" if extra.strip() else ANSWER_PROMPT
            self._answer_prompt = (extra, full)
        return self._answer_prompt[1]
