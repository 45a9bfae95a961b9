"""Children's homework questions for the homework-helper profile, each with the words a right
answer contains (any one of them, case-insensitive)."""

from __future__ import annotations

HOMEWORK_PROMPT = (
    "You are a patient homework helper for children aged 7 to 12. Give the correct answer "
    "first, in one short sentence a child understands, then one short sentence that explains "
    "it. Be kind and encouraging. If you are not sure, say so."
)

QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("What is 7 times 8?", ("56", "fifty-six", "fifty six")),
    ("What is 12 plus 15?", ("27", "twenty-seven", "twenty seven")),
    ("What is 100 minus 36?", ("64", "sixty-four", "sixty four")),
    ("What is half of 50?", ("25", "twenty-five", "twenty five")),
    ("How many sides does a triangle have?", ("3", "three")),
    ("How many sides does a hexagon have?", ("6", "six")),
    ("How many days are in a week?", ("7", "seven")),
    ("How many minutes are in an hour?", ("60", "sixty")),
    ("What is the capital of France?", ("paris",)),
    ("What is the capital of Japan?", ("tokyo",)),
    ("What is the largest planet in our solar system?", ("jupiter",)),
    ("What planet do we live on?", ("earth",)),
    ("What gas do plants take in from the air to make food?", ("carbon dioxide", "co2")),
    ("What do bees make?", ("honey",)),
    ("What is frozen water called?", ("ice",)),
    ("How many legs does a spider have?", ("8", "eight")),
    ("What is the opposite of hot?", ("cold",)),
    ("What is the plural of mouse?", ("mice",)),
    ("Which ocean is the largest?", ("pacific",)),
    ("Who wrote Romeo and Juliet?", ("shakespeare",)),
    ("What colour do you get when you mix blue and yellow?", ("green",)),
    ("How many continents are there?", ("7", "seven")),
]
