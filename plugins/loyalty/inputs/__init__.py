"""The loyalty plugin's GraphQL inputs, one module per aggregate."""
