"""This team's alerting: one module per Mimir ruler namespace, plus alertmanager.py (Slack routing)."""
