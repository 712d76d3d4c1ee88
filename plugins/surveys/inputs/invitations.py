"""Inputs: invitations."""

from __future__ import annotations
