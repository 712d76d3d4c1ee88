"""The competitor plugin's loaders, one module per aggregate."""
