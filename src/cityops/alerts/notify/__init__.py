"""Notifications: e-mail, webhooks and the in-app feed, with preferences, retries and dead letters."""
