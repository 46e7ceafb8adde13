"""`xref/...` rules: one module per rule."""
