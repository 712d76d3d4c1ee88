"""Notifications: each user's inbox, their preferences per kind and channel, and the
subscription that pushes a new notification to the user's open apps."""
