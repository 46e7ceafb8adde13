"""Live lint: every query checked against what the servers of an environment actually hold.

`lgtm-dash lint --live --env dev` reads the same input as offline lint (out/ or the files given), works out
which server each query goes to (`targets`), extracts what it asks for (`selectors`: metric names, label
matchers, LogQL stream selectors, SQL tables and columns), asks each server once per distinct question
(`gather`: deduplicated, bounded concurrency, a time budget, retries), judges the answers (`rules`: one
small class per `live/...` rule) and turns the results into ordinary lint `Finding`s (`adapter`), located
at the Python `file:line` through the source map like every other finding.

The HTTP and MySQL clients here (`transport`, `prometheus`, `loki`, `mysql`) import nothing from
publish or diff; `transport` is the one place that borrows the shared retry policy.
"""
