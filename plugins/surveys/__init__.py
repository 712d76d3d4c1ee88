"""Surveys: satisfaction after every resolved ticket, relationship (NPS) surveys on a
schedule, a public answer page, and the analysis that turns answers into improvement
actions. Everything here reaches the rest of the system through hooks only."""

from plugins.surveys import hooks as plugin

__all__ = ["plugin"]
__version__ = "0.1.0"
