"""The sales plugin's loaders, one module per aggregate."""
