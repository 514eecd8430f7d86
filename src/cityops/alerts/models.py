"""Tables of rules, rule state and alerts."""
