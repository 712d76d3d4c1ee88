"""Pytest entry point: shared fixtures live in tests.support, importable by test modules;
tests.hook_coverage fails a whole-suite run in which some hook was never called."""

pytest_plugins = ["tests.read_paths", "tests.support", "tests.hook_coverage", "pytester"]
