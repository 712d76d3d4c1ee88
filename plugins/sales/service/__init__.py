"""The sales plugin's service, one module per aggregate."""
