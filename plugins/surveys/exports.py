"""CSV and XLSX exports of survey responses."""

from __future__ import annotations

from core.plugin_api import ListExport

EXPORTS: list[ListExport] = []
