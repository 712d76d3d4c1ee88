"""Inputs: rewards."""

from __future__ import annotations
