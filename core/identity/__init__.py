"""Identity and access: users, teams, roles and grants, authentication, API tokens."""
