"""Product warranties of customers: an example plugin (docs/plugins.md walks through it)."""
