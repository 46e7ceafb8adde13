"""Lint rules: one package per family (`promql`, `logql`, `sql`, `dashboard`, `rule`, `alert`, `xref`, `input`,
`lint`), one module per rule; each rule registers itself (see lgtm_dash/lint/registry.py)."""
