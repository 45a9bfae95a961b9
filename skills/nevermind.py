"""Never mind: end the turn quietly."""

from __future__ import annotations

from assistant.skill import Risk, SkillCall, SkillContext, SkillResult, Tool


class NevermindSkill:
    name = "nevermind"
    description = "Stop quietly when you say never mind."
    intents = ("HassNevermind",)
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = ()

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        return SkillResult("")


SKILLS = (NevermindSkill(),)
