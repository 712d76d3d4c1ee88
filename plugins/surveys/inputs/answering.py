"""Inputs: answering."""

from __future__ import annotations
