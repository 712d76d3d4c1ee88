"""Built-in plugins, one package each; they register through the ``crm.plugins`` entry points."""
