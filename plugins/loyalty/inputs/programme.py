"""Inputs: programme."""

from __future__ import annotations
