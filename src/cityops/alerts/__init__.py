"""Alerts: rules on live data and module events -> alerts -> incidents with SOP steps; notifications."""
