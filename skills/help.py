""" "What can you do?": a short summary of the skills in use, from their descriptions."""

from __future__ import annotations

from typing import Final

from assistant.skill import Risk, SkillCall, SkillContext, SkillResult, Tool

__all__ = ["HelpSkill", "summarise"]

PER_SENTENCE: Final = 3  # abilities named in one sentence
MAX_WORDS: Final = 10  # an ability is cut to its first clauses within this many words
_OPENINGS: Final = ("I can", "I can also", "And I can")  # at most three sentences


def _phrase(description: str) -> str:
    """``"Set, pause, resume and cancel timers, and say how long they have left."`` →
    ``"set, pause, resume and cancel timers"``: the part before a colon, cut at a comma to
    about :data:`MAX_WORDS` words, with a lower-case first letter (an acronym keeps its case)."""
    head = description.strip().split(": ", 1)[0].strip().rstrip(".!").strip()
    kept: list[str] = []
    for clause in head.split(", "):
        if kept and len(" ".join([*kept, clause]).split()) > MAX_WORDS:
            break
        kept.append(clause)
    phrase = ", ".join(kept)
    if phrase[1:2].isupper():
        return phrase
    return phrase[:1].lower() + phrase[1:]


def _listed(phrases: list[str]) -> str:
    if len(phrases) <= 2:
        return " and ".join(phrases)
    glue = "; " if any("," in p for p in phrases) else ", "
    tail = ";" if glue == "; " else ""
    return glue.join(phrases[:-1]) + f"{tail} and {phrases[-1]}"


def summarise(abilities: list[str]) -> str:
    """At most three sentences, :data:`PER_SENTENCE` abilities each; the rest are counted."""
    phrases = list(dict.fromkeys(p for p in map(_phrase, abilities) if p))
    if not phrases:
        return "I can't do much yet: no skills are in use."
    limit = PER_SENTENCE * len(_OPENINGS)
    if len(phrases) > limit:
        rest = len(phrases) - (limit - 1)
        phrases = [*phrases[: limit - 1], f"{rest} more things"]
    sentences = []
    for index, opening in enumerate(_OPENINGS):
        group = phrases[index * PER_SENTENCE : (index + 1) * PER_SENTENCE]
        if group:
            sentences.append(f"{opening} {_listed(group)}.")
    return " ".join(sentences)


class HelpSkill:
    name = "help"
    description = "Say what I can do."
    intents = ("HearthWhatCanYouDo",)
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = (Tool("HearthWhatCanYouDo", "Say what the assistant can do."),)

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        others = [a for a in context.abilities if a.strip() and a != self.description]
        return SkillResult(summarise(others))


SKILLS = (HelpSkill(),)
