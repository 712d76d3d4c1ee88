"""The surveys plugin's GraphQL inputs, one module per aggregate."""
