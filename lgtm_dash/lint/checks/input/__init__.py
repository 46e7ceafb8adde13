"""`input/...` rules: one module per rule."""
