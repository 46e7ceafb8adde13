"""`promql/...` rules: one module per rule."""
