"""Service tickets: work orders with priority, SLA, routing, transfer, escalation and customer
confirmation. Everything here reaches the rest of the system through hooks only."""

from plugins.tickets import hooks as plugin

__all__ = ["plugin"]
__version__ = "0.1.0"
