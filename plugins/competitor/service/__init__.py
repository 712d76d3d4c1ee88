"""The competitor plugin's service, one module per aggregate."""
