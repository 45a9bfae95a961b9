"""Hearth: a private voice assistant for the home."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
