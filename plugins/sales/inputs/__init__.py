"""The sales plugin's inputs, one module per aggregate."""
