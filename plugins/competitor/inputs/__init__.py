"""The competitor plugin's inputs, one module per aggregate."""
