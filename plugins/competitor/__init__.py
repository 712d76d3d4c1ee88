"""Competitor tracking: profiles (SWOT with evidence, channels, campaigns), their products and
price history beside our catalogue, market share per segment and period with a forecast, an
intel log that watchers hear of, the competitors customers use, and win/loss against each
(learnt from the sales plugin's closed opportunities through its hooks, or entered by hand),
summed up in a battlecard, also as a PDF."""

from plugins.competitor import hooks as plugin

__all__ = ["plugin"]
__version__ = "0.1.0"
