"""Hearth's local web dashboard: the live pipeline, the journal, energy, devices and profiles.

The HTTP side (:mod:`.server`, :mod:`.routes`, :mod:`.hub`, the pages) knows Hearth only
through :class:`~assistant.dashboard.backend.DashboardBackend`; :mod:`.hearth_backend` gives it
the running daemon, :mod:`.journal_backend` the journal file alone (``hearth dashboard``), and
:mod:`.service` starts it from the configuration. Nothing is imported here, so that reading the
configuration does not load a web server.
"""
