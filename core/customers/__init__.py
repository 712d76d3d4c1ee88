"""The customer graph: customers, contacts, tags, interactions, tasks, custom fields."""
