import pytest


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    """This plugin alone: it must work with every other plugin disabled."""
    return ("warranty",)
