"""Tables of notification channels, preferences, deliveries and dead letters."""
