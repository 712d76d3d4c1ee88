"""Pytest entry point: shared fixtures live in tests.support, importable by test modules."""

pytest_plugins = ["tests.support", "pytester"]
