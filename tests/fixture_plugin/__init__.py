"""A plugin that lives only in the tests, exercising every part of the plugin contract.

It adds a table with its own migration branch, a Node type with a dataloader-backed
relationship, a root query and a mutation, a field on core's ``System`` type, a hookspec of
its own and a listener for it that writes in the mutation's transaction.
"""

from tests.fixture_plugin import hooks

__version__ = "0.0.1"
plugin = hooks
