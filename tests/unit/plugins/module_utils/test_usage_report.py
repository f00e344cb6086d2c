# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The usage report's decisions: fleet sums, changes in percent, the summary, and an HTML page that is safe to open.

Every expected figure is worked out by hand from the hosts' answers below.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.jada.agent.plugins.module_utils.usage_report import (
    TOTALS,
    change_percent,
    change_withheld,
    changes,
    fleet_models,
    host_entry,
    html_report,
    svg_bar_chart,
    usage_report,
)

SONNET45, SONNET46 = 'claude-sonnet-4-5', 'claude-sonnet-4-6'
# A model ID as a transcript could name it: the page must show it as text, never as markup.
EVIL = '<script>alert("x")</script>&<img src=x.png>'


def figures(requests, tokens, errors, cost, tasks=None, cost_per_day=None, p50=None, p95=None):
    entry = {'requests': requests, 'input_tokens': tokens, 'output_tokens': tokens, 'cache_creation_input_tokens': 0,
             'cache_read_input_tokens': 0, 'api_errors': errors, 'cost_usd': cost}
    if tasks is not None:
        entry.update(tasks=tasks, cost_per_day=cost_per_day, p50_ms=p50, p95_ms=p95,
                     tokens_per_task=round(2.0 * tokens / tasks, 1) if tasks else None,
                     error_rate=round(float(errors) / (requests + errors), 4) if requests + errors else None)
    return entry


def answer(time, before, after, models=None, rollout_id='r1'):
    """An agent_usage_info answer with compare: its whole-range models, and its windows."""
    return {'changed': False, 'models': models or {SONNET46: figures(10, 100, 0, 1.0)}, 'totals': {},
            'latency': {}, 'warnings': [],
            'comparison': {'rollout': {'time': time, 'rollout_id': rollout_id, 'result': 'complete',
                                       'from_model': SONNET45, 'to_model': SONNET46, 'from_cli_version': '2.1.300',
                                       'to_cli_version': '2.1.328'},
                           'window_days': 7,
                           'before': {'since': 'b0', 'until': time, 'days': 7.0, 'models': before},
                           'after': {'since': time, 'until': 'a1', 'days': 2.0, 'models': after}}}


@pytest.mark.parametrize('before, after, expected', [
    (100, 125, 25.0),
    (4, 3, -25.0),
    (3, 3, 0.0),
    (0.3, 0.1, -66.7),
    (0, 5, None),
    (0.0, 0.0, None),
    (None, 5, None),
    (5, None, None),
    (2, 0, -100.0),
], ids=['up', 'down', 'same', 'rounded', 'from-zero', 'zero-zero', 'before-unknown', 'after-unknown', 'to-zero'])
def test_change_percent(before, after, expected):
    assert change_percent(before, after) == expected


def test_fleet_sums_counts_and_costs_and_takes_the_worst_hosts_latency():
    a = {SONNET46: figures(3, 100, 1, 0.5, tasks=2, cost_per_day=0.25, p50=1000, p95=3000)}
    b = {SONNET46: figures(5, 50, 0, 0.25, tasks=3, cost_per_day=0.125, p50=2000, p95=2500),
         SONNET45: figures(1, 10, 0, None, tasks=1, cost_per_day=None, p50=None, p95=None)}
    fleet = fleet_models([a, b])
    sonnet = fleet[SONNET46]
    assert (sonnet['requests'], sonnet['input_tokens'], sonnet['api_errors'], sonnet['tasks']) == (8, 150, 1, 5)
    assert (sonnet['cost_usd'], sonnet['cost_per_day']) == (0.75, 0.375)
    # (150 + 150) tokens over 5 tasks; 1 error in 8 + 1 calls.
    assert (sonnet['tokens_per_task'], sonnet['error_rate']) == (60.0, 0.1111)
    assert (sonnet['worst_host_p50_ms'], sonnet['worst_host_p95_ms']) == (2000, 3000)
    assert 'p95_ms' not in sonnet
    # An unpriced model's cost is unknown, not 0; a model without a latency sample has none.
    assert (fleet[SONNET45]['cost_usd'], fleet[SONNET45]['cost_per_day']) == (None, None)
    assert fleet[SONNET45]['worst_host_p95_ms'] is None


def test_whole_range_sums_have_no_window_figures():
    fleet = fleet_models([{SONNET46: figures(1, 1, 0, 0.1)}, {SONNET46: figures(2, 2, 0, 0.2)}])
    assert fleet[SONNET46] == {'requests': 3, 'input_tokens': 3, 'output_tokens': 3, 'cache_creation_input_tokens': 0,
                               'cache_read_input_tokens': 0, 'api_errors': 0, 'cost_usd': 0.3, 'error_rate': 0.0}


def test_changes_per_model_and_over_all_models():
    before = {SONNET45: figures(10, 100, 0, 1.4, tasks=5, cost_per_day=0.2, p50=1000, p95=2000)}
    after = {SONNET46: figures(4, 100, 1, 0.8, tasks=2, cost_per_day=0.4, p50=800, p95=1500),
             SONNET45: figures(2, 10, 0, 0.1, tasks=1, cost_per_day=0.05, p50=1100, p95=2200)}
    result = changes(before, after, [(7.0, 7.0)])
    assert result[SONNET45]['cost_per_day'] == -75.0 and result[SONNET45]['p95_ms'] == 10.0
    # A model new after the rollout has nothing to change from.
    assert set(result[SONNET46].values()) == {None}
    # All models: cost per day 0.2 -> 0.45, tasks 5 -> 3, requests 10 -> 6; no latency over models.
    totals = result[TOTALS]
    assert (totals['cost_per_day'], totals['tasks'], totals['requests']) == (125.0, -40.0, -40.0)
    assert 'p95_ms' not in result[TOTALS]


@pytest.mark.parametrize('name, spans, why', [
    ('requests', [(7.0, 7.0)], None),
    ('tasks', [(7.0, 2.0)], 'the windows differ in length'),
    ('requests', [(7.0, 7.0), (7.0, 6.5)], 'the windows differ in length'),
    ('tokens_per_task', [(7.0, 0.01)], None),
    ('error_rate', [(7.0, 0.01)], None),
    ('p95_ms', [(7.0, 0.01)], None),
    ('cost_per_day', [(7.0, 1.0)], None),
    ('cost_per_day', [(7.0, 0.0035)], 'too early: a window covers 5 minute(s), less than 1 day(s)'),
    ('cost_per_day', [(7.0, 2.0), (0.5, 0.5)], 'too early: a window covers 12.0 hour(s), less than 1 day(s)'),
    ('cost_per_day', [(7.0, 0.999)], 'too early: a window covers 23.9 hour(s), less than 1 day(s)'),
    ('cost_per_day', [], 'too early: a window covers 0 minute(s), less than 1 day(s)'),
], ids=['same-length', 'counts-unequal', 'counts-one-host-unequal', 'ratio-short', 'error-rate-short',
        'latency-short', 'per-day-one-day', 'per-day-minutes', 'per-day-one-host-short', 'per-day-just-short', 'no-window'])
def test_change_withheld(name, spans, why):
    assert change_withheld(name, spans) == why


def test_changes_withholds_counts_of_unequal_windows_and_early_costs_per_day():
    before = {SONNET45: figures(10, 100, 0, 1.4, tasks=5, cost_per_day=0.2, p50=1000, p95=2000)}
    after = {SONNET45: figures(2, 10, 0, 0.1, tasks=1, cost_per_day=2000.0, p50=1100, p95=2200)}
    result = changes(before, after, [(7.0, 0.001)])
    assert result[SONNET45]['p95_ms'] == 10.0 and result[SONNET45]['tokens_per_task'] == -50.0
    assert (result[SONNET45]['cost_per_day'], result[SONNET45]['requests'], result[SONNET45]['tasks']) == (
        None, None, None)


@pytest.mark.parametrize('result, read, line', [
    (None, False, 'FAILED  h: not read (its read failed or did not run; see the output above)'),
    ({'unreachable': True, 'msg': 'Failed to connect to secret-host'}, False,
     'FAILED  h: not read (unreachable; see the output above)'),
    ({'failed': True, 'msg': 'boom'}, False, 'FAILED  h: not read (its read failed or did not run; see the output '
                                             'above)'),
    ({'models': {}, 'totals': {}, 'comparison': {'rollout': None}}, True,
     'ok      h: no completed rollout to compare around'),
    (answer('2026-11-28T09:00:00Z', {SONNET45: figures(10, 100, 0, 1.4, tasks=5, cost_per_day=0.2)},
            {SONNET46: figures(4, 100, 0, 0.6, tasks=2, cost_per_day=0.3)}), True,
     'ok      h: rollout r1 at 2026-11-28T09:00:00Z (claude-sonnet-4-5 -> claude-sonnet-4-6): cost per day 0.20 USD '
     '-> 0.30 USD (+50.0%), error rate 0 -> 0'),
], ids=['no-answer', 'unreachable', 'failed', 'no-rollout', 'rollout'])
def test_host_entry(result, read, line):
    entry, found_read, lines = host_entry('h', result)
    assert found_read is read and lines == [line]
    assert 'Failed to connect' not in repr(entry)


def report_of_two_hosts():
    hosts = [
        ('a', answer('2026-11-28T09:00:00Z', {SONNET45: figures(10, 100, 0, 1.4, tasks=5, cost_per_day=0.2, p50=900,
                                                                p95=2000)},
                     {SONNET46: figures(4, 100, 0, 0.6, tasks=2, cost_per_day=0.3, p50=800, p95=1500)})),
        ('b', answer('2026-11-29T09:00:00Z', {SONNET45: figures(2, 10, 0, 0.7, tasks=1, cost_per_day=0.1, p50=700,
                                                                p95=2500)},
                     {EVIL: figures(1, 5, 1, 0.2, tasks=1, cost_per_day=0.1, p50=100, p95=200)},
                     models={EVIL: figures(1, 5, 1, 0.2)}, rollout_id='r<2>')),
        ('c', {'models': {SONNET46: figures(1, 1, 0, 0.01)}, 'totals': {}, 'comparison': {'rollout': None}}),
        ('gone', {'unreachable': True}),
    ]
    return usage_report(hosts, '2026-12-01T08:00:00Z', False)


def test_the_report_of_a_fleet():
    report = report_of_two_hosts()
    fleet = report['fleet']
    assert report['hosts_not_read'] == ['gone'] and fleet['hosts_read'] == ['a', 'b', 'c']
    assert fleet['comparison']['hosts_compared'] == ['a', 'b']
    # Whole range: sonnet 4.6 on a (10 requests) and c (1); the odd model on b.
    assert fleet['models'][SONNET46]['requests'] == 11 and fleet['models'][EVIL]['requests'] == 1
    assert fleet['totals']['requests'] == 12 and fleet['totals']['cost_usd'] == 1.21
    before, after = fleet['comparison']['before'], fleet['comparison']['after']
    assert before['models'][SONNET45]['cost_per_day'] == pytest.approx(0.3)
    assert before['models'][SONNET45]['worst_host_p95_ms'] == 2500
    assert after['totals']['cost_per_day'] == pytest.approx(0.4)
    assert fleet['comparison']['change'][TOTALS]['cost_per_day'] == 33.3
    # After: 1 error in 4 + 1 answers and 1 failure.
    assert report['summary_lines'][0] == ('fleet   2 host(s) compared around their last rollout: cost per day 0.30 USD '
                                          '-> 0.40 USD (+33.3%), error rate 0 -> 0.1667')
    assert report['summary_lines'][-1] == 'FAILED  gone: not read (unreachable; see the output above)'
    assert report['hosts']['c']['comparison'] is None


def test_a_host_minutes_after_its_rollout_holds_back_the_fleets_cost_per_day_change():
    early = answer('2026-12-01T07:55:00Z', {SONNET45: figures(2, 10, 0, 0.7, tasks=1, cost_per_day=0.1)},
                   {SONNET46: figures(1, 5, 0, 0.2, tasks=1, cost_per_day=57.6)})
    early['comparison']['after']['days'] = 0.0035
    report = usage_report([('a', early)], '2026-12-01T08:00:00Z', False)
    comparison = report['fleet']['comparison']
    assert comparison['change'][TOTALS]['cost_per_day'] is None
    assert set(comparison['change_withheld']) == {'cost_per_day', 'requests', 'tasks'}
    assert report['summary_lines'][0].endswith('-> 57.60 USD (too early: a window covers 5 minute(s), less than '
                                               '1 day(s)), error rate 0 -> 0')
    assert 'No change shown for cost_per_day: too early' in html_report(report)


def test_no_host_with_a_rollout():
    report = usage_report([('c', {'models': {}, 'totals': {}, 'comparison': {'rollout': None}})], 'now', True)
    assert report['fleet']['comparison'] is None and report['check_mode'] is True
    assert report['summary_lines'][0] == 'fleet   no host has a completed rollout to compare around'
    assert '<svg' not in html_report(report)


def test_the_page_escapes_every_text_and_loads_nothing():
    page = html_report(report_of_two_hosts())
    assert '<script' not in page.lower() and 'javascript:' not in page.lower()
    assert not re.search(r'https?://', page) and not re.search(r'<[^>]*\s(src|href)=', page)
    assert EVIL not in page
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img' in page
    assert 'r&lt;2&gt;' in page
    # Two charts (cost per day, latency) for the fleet and for each host compared (a, b); none for c.
    assert page.count('<svg') == page.count('</svg>') == 6
    assert page.startswith('<!DOCTYPE html>') and page.rstrip().endswith('</html>')
    assert 'Not read: gone' in page


def test_a_chart_has_a_bar_per_value_and_scales_to_the_largest():
    chart = svg_bar_chart('Cost <per> day', 'USD', [('m&1', [('before', 2.0, '#000'), ('after', 1.0, '#111')]),
                                                    ('m2', [('before', None, '#000'), ('after', 0, '#111')])])
    assert chart.count('<svg') == 1 and chart.count('<rect') == 4
    assert 'Cost &lt;per&gt; day' in chart and 'm&amp;1' in chart
    widths = [int(width) for width in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', chart)]
    assert widths == [420, 210, 0, 0]
    assert 'n/a' in chart
