"""The sales plugin's types, one module per aggregate."""
