"""The competitor plugin's webhook event types and what each tells.

An event carries global ids, kinds, outcomes and dates; never an intel entry's summary or a
reason's free text (a receiver reads those through the API with a token holding
``competitors:read``).
"""

from __future__ import annotations

EVENT_TYPES = {
    "competitor.intel_logged": "an intel entry about a competitor was logged",
    "competitor.encounter_recorded": "a deal met against a competitor was won or lost",
}
