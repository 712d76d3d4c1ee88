"""Sales: the product catalogue, the pipeline and its opportunities, contracts, orders (the
purchase history) and the analytics that stand on them. Everything here reaches the rest of
the system through hooks only."""

from plugins.sales import hooks as plugin

__all__ = ["plugin"]
__version__ = "0.1.0"
