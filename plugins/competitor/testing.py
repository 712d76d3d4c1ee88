"""Helpers the competitor plugin's tests share. The fixtures (``settings`` with the plugin
and the sales plugin enabled, ``clock``, ``api``, ``admin``) are in ``conftest.py`` beside
this module; the GraphQL helpers come from the test kit (:mod:`schema.testkit_graphql`)."""

from __future__ import annotations

import datetime as dt

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning."""
