"""Live lint: every query checked against what the servers of an environment actually hold.

`lgtm-dash lint --live --env dev` reads the same input as offline lint (out/ or the files given), works out
which server each query goes to (`targets`), extracts what it asks for (`selectors`: metric names, label
matchers, LogQL stream selectors, SQL tables and columns), and asks each server once per distinct question
(`gather`: deduplicated, bounded concurrency, a time budget, retries). `run.live_answers` returns what the
servers answered; the `live/...` rules, registered with the other lint rules under
lgtm_dash/lint/checks/live/, judge it in the same engine run, located at the Python `file:line` through the
source map like every other finding, and configured like every other rule.

The servers are asked through the read-only query clients in lgtm_dash/clients/ (`query`: the JSON-over-HTTP
transport; `prometheus_api`; `loki.LokiQueryApi`; `mysql`), next to the Grafana, Mimir and Loki ruler clients;
this package holds the lint logic.
"""
