"""Unit tests for the LogQL parser in lgtm_dash.lint.logql."""

from __future__ import annotations

import pytest

from lgtm_dash.lint.logql import LogQLSyntaxError, Matcher, ParsedLogQL, parse_logql

# Each construct: (name, a query that must parse, a query that must be rejected).
CONSTRUCTS = [
    ("selector", '{app="a", env=~"prod|dev", x!="y", z!~"w.*"}', '{app="a",}'),
    ("selector backticks", "{app=`a\\b`}", "{app=`a}"),
    ("selector go escapes", r'{app="a\"b\n\x41\u00e9"}', r'{app="a\qb"}'),
    ("selector unclosed", '{app="a"}', '{app="a"'),
    ("selector needs a non-empty matcher", '{app=~".+"}', '{app=~".*"}'),
    ("empty selector", '{app="a"}', "{}"),
    ("line filter |=", '{app="a"} |= "error"', '{app="a"} |= error'),
    ("line filter !=", '{app="a"} != "debug"', '{app="a"} != '),
    ("line filter |~", '{app="a"} |~ `(?i)err`', '{app="a"} |~'),
    ("line filter !~", '{app="a"} !~ "a|b"', '{app="a"} !~ 5'),
    ("line filter |>", '{app="a"} |> "<_> error <_>"', '{app="a"} |> ip'),
    ("line filter !>", '{app="a"} !> "<_> ok"', '{app="a"} !>'),
    ("line filter or", '{app="a"} |= "a" or "b" or ip("10.0.0.0/8")', '{app="a"} |= "a" or'),
    ("line filter ip", '{app="a"} != ip("192.168.0.1")', '{app="a"} |= ip(192)'),
    ("json", '{app="a"} | json', '{app="a"} | json a=b'),
    ("json params", '{app="a"} | json a="x.y", b, c="d[0]"', '{app="a"} | json a="x",'),
    ("logfmt", '{app="a"} | logfmt', '{app="a"} | logfmt --lenient'),
    ("logfmt flags", '{app="a"} | logfmt --strict --keep-empty a, b="c"', '{app="a"} | logfmt a, --strict'),
    ("regexp", '{app="a"} | regexp "(?P<x>\\\\w+)"', '{app="a"} | regexp'),
    ("pattern", '{app="a"} | pattern "<ip> <_>"', '{app="a"} | pattern x'),
    ("unpack", '{app="a"} | unpack', '{app="a"} | unpack x'),
    ("line_format", '{app="a"} | line_format "{{.msg}}"', '{app="a"} | line_format'),
    ("label_format", '{app="a"} | label_format a=b, c="{{.x}}"', '{app="a"} | label_format a'),
    ("drop", '{app="a"} | drop a, b="c", __error__', '{app="a"} | drop'),
    ("keep", '{app="a"} | keep a, b=~"c.*"', '{app="a"} | keep a="b" c'),
    ("decolorize", '{app="a"} | decolorize', '{app="a"} | decolorize x'),
    ("label filter string", '{app="a"} | json | level="error"', '{app="a"} | json | level="error'),
    (
        "label filter and/or/comma/parens",
        '{app="a"} | logfmt | (status>=500 or level="error") and path!="/health", x=~"y" z!~"w"',
        '{app="a"} | logfmt | (status>=500 or level="error"',
    ),
    (
        "label filter numbers",
        '{app="a"} | logfmt | n > 5 | n <= -1.5 | n == 2 | n != +3',
        '{app="a"} | x > "5"',
    ),
    ("label filter hex", '{app="a"} | logfmt | n > 1e3', '{app="a"} | logfmt | n > 0x10'),
    ("label filter duration", '{app="a"} | logfmt | d > 5s | d < 1h30m | d >= 250ms', '{app="a"} | d > 5s3x'),
    ("label filter bytes", '{app="a"} | logfmt | size > 20MB | size <= 5KiB', '{app="a"} | size > -20MB'),
    (
        "label filter ip",
        '{app="a"} | logfmt | addr = ip("10.0.0.0/8")',
        '{app="a"} | logfmt | addr > ip("1.2.3.4")',
    ),
    ("label filter __error__", '{app="a"} | json | __error__=""', '{app="a"} | json | __error__='),
    ("keyword-like label names", '{app="a"} | logfmt | rate="x" | ip="y" | of="z" | count > 1', '{on="x"}'),
    ("range aggregation", 'count_over_time({app="a"}[5m])', 'count_over_time({app="a"})'),
    (
        "range before pipeline",
        'count_over_time({app="a"}[5m] |= "x" | json)',
        'count_over_time({app="a"}[5m][5m])',
    ),
    ("parenthesised log range", 'rate(({app="a"} |= "x")[1m])', 'rate(({app="a"} |= "x")[1m)'),
    ("offset", 'rate({app="a"}[5m] offset 1h)', 'rate({app="a"}[5m] offset)'),
    ("bad range", 'rate({app="a"}[1h30m])', 'rate({app="a"}[5minutes])'),
    (
        "unwrap",
        'sum_over_time({app="a"} | logfmt | unwrap latency [5m])',
        'sum_over_time({app="a"} | unwrap [5m])',
    ),
    (
        "unwrap conversions",
        'avg_over_time({app="a"} | unwrap duration(d) | __error__="" [5m])',
        'avg_over_time({app="a"} | unwrap seconds(d) [5m])',
    ),
    ("unwrap bytes", 'max_over_time({app="a"} | unwrap bytes(b) [5m])', '{app="a"} | unwrap bytes(b)'),
    (
        "unwrap duration_seconds",
        'min_over_time({app="a"} | unwrap duration_seconds (d) [5m]) by (x)',
        'min_over_time({app="a"} | unwrap d [5m] | json)',
    ),
    ("unwrap required", 'sum_over_time({app="a"} | unwrap x [5m])', 'sum_over_time({app="a"}[5m])'),
    ("unwrap forbidden", 'count_over_time({app="a"}[5m])', 'count_over_time({app="a"} | unwrap x [5m])'),
    (
        "quantile_over_time",
        'quantile_over_time(0.99, {app="a"} | unwrap x [5m]) by (y)',
        'quantile_over_time({app="a"} | unwrap x [5m])',
    ),
    ("range parameter", 'quantile_over_time(.5, {app="a"} | unwrap x [5m])', 'rate(5, {app="a"}[5m])'),
    ("range grouping", 'max_over_time({app="a"} | unwrap x [5m]) by (y)', 'rate({app="a"}[5m]) by (y)'),
    ("absent_over_time", 'absent_over_time({app="a"}[5m])', 'absent_over_time({app="a"}[5m]) by (x)'),
    ("first/last_over_time", 'last_over_time({app="a"} | unwrap x [5m])', 'first_over_time({app="a"}[5m])'),
    ("rate_counter", 'rate_counter({app="a"} | unwrap x [5m])', 'rate_counter({app="a"}[5m])'),
    ("bytes_rate", 'bytes_rate({app="a"}[5m])', 'bytes_rate({app="a"})[5m]'),
    ("unknown function", 'rate({app="a"}[5m])', 'unk({app="a"}[5m])'),
    ("sum", 'sum(rate({app="a"}[5m]))', 'sum({app="a"})'),
    ("by before", 'sum by (a, b) (rate({app="a"}[5m]))', 'sum by (a,) (rate({app="a"}[5m]))'),
    ("without after", 'avg(rate({app="a"}[5m])) without (a)', 'avg by (a) (rate({app="a"}[5m])) by (b)'),
    ("empty grouping", 'count(rate({app="a"}[5m])) by ()', 'count(rate({app="a"}[5m])) by'),
    ("topk", 'topk(5, sum by (a) (rate({app="a"}[5m])))', 'topk(sum(rate({app="a"}[5m])))'),
    ("bottomk", 'bottomk by (a) (3, rate({app="a"}[5m]))', 'bottomk(1.5, rate({app="a"}[5m]))'),
    ("topk zero", 'topk(1, rate({app="a"}[5m]))', 'topk(0, rate({app="a"}[5m]))'),
    ("approx_topk", 'approx_topk(5, rate({app="a"}[5m]))', 'approx_topk(5, rate({app="a"}[5m])) by (x)'),
    ("sort", 'sort_desc(sum by (a) (rate({app="a"}[5m])))', 'sort(rate({app="a"}[5m])) by (a)'),
    (
        "stddev/stdvar/min/max",
        'stdvar(max(min(stddev(rate({app="a"}[5m])))))',
        'stddev(3, rate({app="a"}[5m]))',
    ),
    (
        "case-insensitive keywords",
        'SUM BY (a) (Count_Over_Time({app="a"}[5m]))',
        'SUM BY (a) (Count({app="a"}))',
    ),
    ("binary arithmetic", 'sum(rate({app="a"}[5m])) / 2 + 1 - 3 * 4 % 5 ^ 2', 'sum(rate({app="a"}[5m])) /'),
    ("comparison bool", 'sum(rate({app="a"}[5m])) > bool 0', 'sum(rate({app="a"}[5m])) bool > 0'),
    (
        "on / group_left",
        'sum by (a) (rate({app="a"}[5m])) * on (a) group_left (b) sum by (a, b) (rate({app="b"}[5m]))',
        'sum(rate({app="a"}[5m])) * on a sum(rate({app="b"}[5m]))',
    ),
    (
        "ignoring / group_right",
        'sum(rate({app="a"}[5m])) / ignoring (x) group_right sum(rate({app="b"}[5m]))',
        'sum(rate({app="a"}[5m])) / ignoring (x) group_right (',
    ),
    (
        "set operators",
        'sum(rate({app="a"}[5m])) and sum(rate({app="b"}[5m])) unless sum(rate({app="c"}[5m]))',
        'sum(rate({app="a"}[5m])) or 1',
    ),
    ("set operator literal", 'sum(rate({app="a"}[5m])) or vector(0)', '1 unless sum(rate({app="a"}[5m]))'),
    ("binary on log query", 'count_over_time({app="a"}[5m]) > 1', '{app="a"} + {app="b"}'),
    ("number literals", "1.5 + -2 * +3e2 - .5", "1.5 +"),
    ("vector", "vector(1)", "vector(abc)"),
    (
        "label_replace",
        'label_replace(rate({app="a"}[5m]), "dst", "$1", "src", "(.*)")',
        'label_replace(rate({app="a"}[5m]), "dst", "$1", "src")',
    ),
    (
        "label_replace regex",
        'label_replace(vector(1), "dst", "$1", "src", "(.*)")',
        'label_replace(vector(1), "dst", "$1", "src", "a(b")',
    ),
    ("parentheses", '((sum(rate({app="a"}[5m]))))', '((sum(rate({app="a"}[5m])))'),
    ("comments", '{app="a"} # |= "x"\n| json # trailing', "# only a comment"),
    (
        "variants",
        'variants(count_over_time({app="a"}[1m]), bytes_over_time({app="a"}[1m])) of ({app="a"}[1m])',
        'variants(count_over_time({app="a"}[1m])) of {app="a"}',
    ),
    ("trailing garbage", '{app="a"}', '{app="a"} foo'),
    ("stray string", '{app="a"} |= "x"', '{app="a"} "x"'),
]


@pytest.mark.parametrize(("name", "good", "bad"), CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_construct(name: str, good: str, bad: str) -> None:
    parse_logql(good)
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql(bad)
    err = info.value
    assert "\n" not in err.message
    assert "Traceback" not in err.message
    assert err.line >= 1 and err.column >= 1
    assert err.message.endswith(f"at line {err.line}, column {err.column}")
    assert str(err) == err.message


def test_dashboard_example_structure() -> None:
    q = 'sum by (level) (count_over_time({namespace="x", app="y"} |= "error" | json | level=~"warn|error" [5m]))'
    parsed = parse_logql(q)
    assert parsed == ParsedLogQL(
        kind="metric",
        selectors=((Matcher("namespace", "=", "x"), Matcher("app", "=", "y")),),
        range_windows=("5m",),
        range_functions=("count_over_time",),
        parsers=("line_filter", "json", "label_filter"),
        unwrapped=(),
    )


def test_log_query_structure() -> None:
    parsed = parse_logql('{app="a", env!~`dev|test`} |= "x" | logfmt | line_format "{{.msg}}" | drop b')
    assert parsed.kind == "log"
    assert parsed.selectors == ((Matcher("app", "=", "a"), Matcher("env", "!~", "dev|test")),)
    assert parsed.range_windows == ()
    assert parsed.range_functions == ()
    assert parsed.parsers == ("line_filter", "logfmt", "line_format", "drop")
    assert parsed.unwrapped == ()


def test_parenthesised_log_query_is_log() -> None:
    assert parse_logql('(({app="a"} | json))').kind == "log"


def test_literals_and_vector_are_metric() -> None:
    assert parse_logql("1 + 1").kind == "metric"
    assert parse_logql("vector(1)").kind == "metric"
    assert parse_logql("1").selectors == ()


def test_binary_structure_in_order() -> None:
    q = (
        'sum(rate({app="a"}[1m])) / sum(quantile_over_time(0.9, {app="b"} | json '
        '| unwrap duration(lat) [$__auto]) by (x)) + count_over_time({app="c"}[5m] offset 1h)'
    )
    parsed = parse_logql(q)
    assert parsed.kind == "metric"
    assert [s[0].value for s in parsed.selectors] == ["a", "b", "c"]
    assert parsed.range_windows == ("1m", "$__auto", "5m")
    assert parsed.range_functions == ("rate", "quantile_over_time", "count_over_time")
    assert parsed.parsers == ("json", "unwrap")
    assert parsed.unwrapped == ("lat",)


def test_unwrap_post_filters_count_as_label_filter() -> None:
    parsed = parse_logql('sum_over_time({app="a"} | logfmt | unwrap bytes | __error__="" [5m])')
    assert parsed.unwrapped == ("bytes",)
    assert parsed.parsers == ("logfmt", "unwrap", "label_filter")


def test_matcher_values_are_decoded() -> None:
    parsed = parse_logql(r'{a="x\"y", b=`c\d`, c="\u00e9\t", d="\101"}')
    assert [m.value for m in parsed.selectors[0]] == ['x"y', "c\\d", "\u00e9\t", "A"]


def test_matchers_are_frozen() -> None:
    parsed = parse_logql('{app="a"}')
    with pytest.raises(AttributeError):
        parsed.selectors[0][0].value = "b"  # type: ignore[misc]


@pytest.mark.parametrize("macro", ["$__auto", "$__interval", "$__range", "$__rate_interval", "${__interval}"])
def test_grafana_range_macros(macro: str) -> None:
    parsed = parse_logql(f'sum(count_over_time({{app="a"}} |= "x" [{macro}]))')
    assert parsed.range_windows == (macro,)


@pytest.mark.parametrize("window", ["$interval", "$__auto ", "$__foo", "5 m", "5.5m", "1m1h"])
def test_other_range_texts_are_rejected(window: str) -> None:
    with pytest.raises(LogQLSyntaxError):
        parse_logql(f'count_over_time({{app="a"}}[{window}])')


def test_error_position_multiline() -> None:
    q = 'sum by (level) (\n  count_over_time(\n    {app="a"} | json || level="x" [5m]\n  )\n)'
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql(q)
    err = info.value
    assert (err.line, err.column) == (3, 23)
    assert err.message.startswith('syntax error: unexpected "|"')
    assert err.message.endswith("at line 3, column 23")
    assert "\n" not in err.message


def test_error_position_unexpected_end() -> None:
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql('{foo="bar"\n')
    err = info.value
    assert (err.line, err.column) == (2, 1)
    assert "unexpected end of query" in err.message
    assert 'expecting "," or "}"' in err.message


def test_error_unexpected_character() -> None:
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql('{app="a"} | json ; x')
    assert (info.value.line, info.value.column) == (1, 18)
    assert 'unexpected character ";"' in info.value.message


def test_error_unterminated_string() -> None:
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql('{app="a"} |= "oops')
    assert "unterminated string" in info.value.message
    assert info.value.column == 14


def test_invalid_escape_position() -> None:
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql('{app="ab\\qc"}')
    assert "invalid escape sequence" in info.value.message
    assert (info.value.line, info.value.column) == (1, 9)


def test_invalid_utf8_is_rejected() -> None:
    query = b'{app=~"\xa0\xa1"}'.decode("utf-8", "surrogateescape")
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql(query)
    assert "invalid UTF-8" in info.value.message


def test_semantic_errors_have_positions() -> None:
    with pytest.raises(LogQLSyntaxError) as info:
        parse_logql('sum(rate({app="a"}[5m])) + count_over_time({app="b"} | unwrap x [5m])')
    assert "invalid aggregation count_over_time with unwrap" in info.value.message
    assert (info.value.line, info.value.column) == (1, 28)


def test_empty_compatible_matchers() -> None:
    parse_logql('{app!=""}')
    parse_logql('{app=~".+", env=~".*"}')
    for bad in ('{app=""}', '{app!="x"}', '{app!~"x|y"}', 'rate({app=~".*"}[5m])'):
        with pytest.raises(LogQLSyntaxError, match="empty-compatible"):
            parse_logql(bad)


def test_re2_only_regex_is_not_rejected() -> None:
    parse_logql(r'{app=~"\\p{L}+"}')
    parse_logql(r'{app="a"} |~ "\\z"')


def test_type_error_for_non_string() -> None:
    with pytest.raises(TypeError):
        parse_logql(None)  # type: ignore[arg-type]


def test_errors_do_not_chain_lark_exceptions() -> None:
    for bad in ('{app="a"', '{app="a"} ; x', 'rate({app="a"}[5m', 'sum({app="a"})', ""):
        with pytest.raises(LogQLSyntaxError) as info:
            parse_logql(bad)
        assert info.value.__cause__ is None
        assert info.value.__context__ is None or isinstance(info.value.__context__, LogQLSyntaxError)
