"""The GraphQL documents the benchmark sends."""

from __future__ import annotations

NESTED = """
query Nested($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        id
        number
        name
        stage
        grade
        industry
        lastInteractionAt
        owner { id name }
        tags { name }
        contacts(first: 5) { edges { node { id name email phone primary } } }
        interactions(first: 3) { edges { node { id channel summary occurredAt } } }
        tickets(first: 3) { edges { node { id number subject status priority } } }
      }
    }
  }
}"""
"""The nested customer query: a page of customers with their owner, tags, contacts, latest
interactions and latest tickets (the tickets plugin's field)."""
