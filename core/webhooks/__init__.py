"""Outbound webhooks: subscriptions to event types, signed deliveries, a delivery log.

An event (``customer.created``, a plugin's ``ticket.opened``) is written to the outbox in the
transaction of the change that caused it (:func:`core.webhooks.events.emit_event`), one
message per active subscription listening to its type; the outbox worker posts it, signed per
the Standard Webhooks scheme, and each attempt is logged (:mod:`core.webhooks.delivery`).
"""
