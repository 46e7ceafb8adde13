"""Slack routing for QGX alerts (Mimir Alertmanager).

Grouped by alertname, namespace and cluster; routed by severity: critical -> #alerts-critical,
warning -> #alerts, info -> #alerts-info (low noise). A critical inhibits the warning of the same alert in
the same namespace and cluster. The webhook URL comes from SLACK_WEBHOOK_URL at publish time.
"""

from pathlib import Path

from lgtm_dash.model.alertmanager import (
    AlertmanagerConfig,
    InhibitRule,
    Receiver,
    Route,
    RoutingCase,
    SlackAction,
    SlackConfig,
)
from lgtm_dash.secrets import Secret
from lgtm_dash.source import display_path

SLACK_WEBHOOK = Secret("SLACK_WEBHOOK_URL")
TEMPLATE_FILE = Path(__file__).with_name("slack.tmpl")
GROUP_BY = ("alertname", "namespace", "cluster")

# Severity -> (receiver, channel). An alert without a known severity goes to the warning channel.
CHANNELS = {
    "critical": ("slack-critical", "#alerts-critical"),
    "warning": ("slack-warning", "#alerts"),
    "info": ("slack-info", "#alerts-info"),
}
DEFAULT_RECEIVER = CHANNELS["warning"][0]


def slack(channel: str) -> SlackConfig:
    return SlackConfig(
        channel=channel,
        api_url=SLACK_WEBHOOK,
        username="Alertmanager",
        color='{{ template "slack.qgx.color" . }}',
        title='{{ template "slack.qgx.title" . }}',
        text='{{ template "slack.qgx.text" . }}',
        fallback='{{ template "slack.qgx.fallback" . }}',
        actions=(
            SlackAction(text="Runbook", url='{{ template "slack.qgx.runbook" . }}'),
            SlackAction(text="Dashboard", url='{{ template "slack.qgx.dashboard" . }}'),
            SlackAction(text="Silence", url='{{ template "slack.qgx.silence" . }}', style="danger"),
        ),
        send_resolved=True,
    )


receivers = tuple(Receiver(name=name, slack_configs=(slack(channel),)) for name, channel in CHANNELS.values())

# Routing unit tests: label sets and the receivers they must reach (`lgtm-dash test` runs them on amtool).
tests = (
    RoutingCase(
        {"alertname": "QgxHttpHighErrorRatio", "namespace": "shop", "severity": "critical"},
        ("slack-critical",),
    ),
    RoutingCase(
        {"alertname": "QgxHttpHighErrorRatio", "namespace": "shop", "severity": "warning"}, ("slack-warning",)
    ),
    RoutingCase(
        {"alertname": "KubeContainerCPUThrottling", "namespace": "shop", "severity": "info"}, ("slack-info",)
    ),
    RoutingCase(
        {"alertname": "AlloyDown", "namespace": "monitoring", "cluster": "c1", "severity": "critical"},
        ("slack-critical",),
    ),
    # Loki ruler alerts (alerts/logs.py) arrive at the same Alertmanager, with the labels their LogQL keeps.
    RoutingCase(
        {
            "alertname": "QgxLogErrorBurst",
            "namespace": "shop",
            "cluster": "c1",
            "service": "api",
            "severity": "critical",
        },
        ("slack-critical",),
    ),
    RoutingCase(
        {
            "alertname": "QgxLogErrorBurst",
            "namespace": "shop",
            "cluster": "c1",
            "service": "api",
            "severity": "warning",
        },
        ("slack-warning",),
    ),
    RoutingCase(
        {
            "alertname": "QgxLogFatal",
            "namespace": "shop",
            "cluster": "c1",
            "service": "api",
            "severity": "critical",
        },
        ("slack-critical",),
    ),
    RoutingCase(
        {"alertname": "QgxServiceStoppedLogging", "service": "gateway", "severity": "warning"},
        ("slack-warning",),
        name="absent_over_time keeps only the service label",
    ),
    RoutingCase(
        {
            "alertname": "QgxAccessLog5xxRatio",
            "namespace": "shop",
            "cluster": "c1",
            "service": "api",
            "uri": "/api/orders",
            "severity": "warning",
        },
        ("slack-warning",),
    ),
    RoutingCase(
        {"alertname": "SomethingNew", "namespace": "shop"},
        ("slack-warning",),
        name="no severity: the default",
    ),
    RoutingCase(
        {"alertname": "SomethingNew", "severity": "page"},
        ("slack-warning",),
        name="unknown severity: the default",
    ),
)

alertmanager = AlertmanagerConfig(
    route=Route(
        receiver=DEFAULT_RECEIVER,
        group_by=GROUP_BY,
        group_wait="30s",
        group_interval="5m",
        repeat_interval="4h",
        routes=(
            Route(receiver=CHANNELS["critical"][0], matchers=('severity="critical"',), repeat_interval="1h"),
            Route(receiver=CHANNELS["warning"][0], matchers=('severity="warning"',)),
            Route(
                receiver=CHANNELS["info"][0],
                matchers=('severity="info"',),
                group_interval="30m",
                repeat_interval="24h",
            ),
        ),
    ),
    receivers=receivers,
    inhibit_rules=(
        InhibitRule(
            source_matchers=('severity="critical"',),
            target_matchers=('severity="warning"',),
            equal=("alertname", "namespace", "cluster"),
        ),
    ),
    templates={TEMPLATE_FILE.name: TEMPLATE_FILE.read_text(encoding="utf-8")},
    template_locations={TEMPLATE_FILE.name: display_path(TEMPLATE_FILE)},
    resolve_timeout="5m",
    tests=tests,
)
