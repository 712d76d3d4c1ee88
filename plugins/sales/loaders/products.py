"""Dataloaders of the product catalogue (products are not scoped: who reads sales reads
every product)."""

from __future__ import annotations

from core.plugin_api import ByIdLoader
from plugins.sales.models import Product


class ProductByIdLoader(ByIdLoader[Product]):
    entity = Product
