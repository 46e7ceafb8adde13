"""`live/...` rules: one module per rule. They judge what the servers of an environment answered
(lgtm_dash/live/), so they run only with `lgtm-dash lint --live`; the engine skips them otherwise."""
