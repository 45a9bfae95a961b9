"""Router layer 3: the language model's own short answer, spoken sentence by sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

from ..config import LlmConfig
from .language_model import Exchange, LanguageModel, Message

__all__ = ["ANSWER_PROMPT", "FreeAnswerer", "split_sentences"]

ANSWER_PROMPT: Final = (
    "You are Hearth, a friendly voice assistant in a home. Your words are spoken aloud: answer "
    "in one or two short sentences of plain words, with no lists, markdown or emoji."
)
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")


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
        return split_sentences(_recorded(pieces, exchange))

    def _answer_system(self, extra: str) -> str:
        if self._answer_prompt is None or self._answer_prompt[0] != extra:
            full = f"{ANSWER_PROMPT}\n{extra.strip()}" if extra.strip() else ANSWER_PROMPT
            self._answer_prompt = (extra, full)
        return self._answer_prompt[1]
