"""Inputs: templates."""

from __future__ import annotations
