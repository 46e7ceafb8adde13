"""Lint checks: one module per family; each check registers itself (see lgtm_dash.lint.registry)."""
