"""Kept so that skills written for earlier releases still import; use :mod:`assistant.skill`.

This module goes away in a later release.
"""

from __future__ import annotations

from .understanding.tool_catalog import AREA

__all__ = ["AREA"]
