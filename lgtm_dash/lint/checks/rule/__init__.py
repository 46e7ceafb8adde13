"""`rule/...` rules: one module per rule."""
