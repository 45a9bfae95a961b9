"""Hearth's built-in skills, one module each; every module exports ``SKILLS``."""
