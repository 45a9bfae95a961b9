"""Kept so that skills written for earlier releases still import; use :mod:`assistant.skill`.

This module goes away in a later release.
"""

from __future__ import annotations

from .home.home import EntityState, Home

__all__ = ["EntityState", "Home"]
