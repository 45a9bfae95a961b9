"""The house: rooms that agree which of them answers a wake word (``claims``, ``board``)."""
