"""This team's dashboards: one module each, exposing `dashboard` (a Board)."""
