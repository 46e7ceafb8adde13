"""`logql/...` rules: one module per rule."""
