"""Incidents promoted from alerts, standard operating procedure templates and their tasks."""
