"""The time and the date, from the local clock."""

from __future__ import annotations

from assistant.skill import Risk, SkillCall, SkillContext, SkillResult, Tool


class ClockSkill:
    name = "clock"
    description = "Say the current time or today's date."
    intents = ("HassGetCurrentTime", "HassGetCurrentDate")
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = (
        Tool("HassGetCurrentTime", "Say the time now."),
        Tool("HassGetCurrentDate", "Say today's date."),
    )

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        now = context.now()
        if call.intent == "HassGetCurrentTime":
            hour = now.hour % 12 or 12
            suffix = "AM" if now.hour < 12 else "PM"
            return SkillResult(f"It's {hour}:{now.minute:02d} {suffix}.")
        return SkillResult(f"Today is {now:%A}, {now:%B} {now.day}, {now.year}.")


SKILLS = (ClockSkill(),)
