"""`sql/...` rules: one module per rule."""
