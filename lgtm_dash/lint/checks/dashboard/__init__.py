"""`dashboard/...` rules: one module per rule."""
