"""`alert/...` rules: one module per rule."""
