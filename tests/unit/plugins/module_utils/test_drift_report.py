# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The drift report's decisions: what each host's outcome is, what counts as fixed, and what the summary says."""

from __future__ import annotations

import pytest

from ansible_collections.jada.agent.plugins.module_utils.drift_report import NOT_READ, drift_report, host_entry

MODEL = {'check': 'model in /srv/a/.claude/settings.json', 'expected': 'claude-sonnet-4-6',
         'actual': 'claude-haiku-4-5'}
LIMIT = {'check': 'LimitNOFILE drop-in 50-limits.conf', 'expected': 'LimitNOFILE=16384', 'actual': 'LimitNOFILE=4096'}
EFFECTIVE = {'model': 'claude-sonnet-4-6', 'setting': 'claude-sonnet-4-6', 'source': '/srv/a/.claude/settings.json',
             'env_keys': ['ANTHROPIC_API_KEY'], 'files': ['/root/.claude/settings.json']}


def read(drift, effective=None):
    return {'plan': {'drift': drift, 'pending': bool(drift)}, 'effective_model': effective or {}}


LOST = 'h: lost after its read (unreachable, or a task failed; see the output above); what drifted may remain'


@pytest.mark.parametrize('state, kept, failure, lost, outcome, drift, fixed, remaining, failed', [
    # Report mode: what the read found.
    (read([]), NOT_READ, None, False, 'ok', [], [], [], None),
    (read([MODEL, LIMIT]), NOT_READ, None, False, 'drift', [MODEL, LIMIT], [], [MODEL, LIMIT], None),
    # Remediate mode: what drifted was kept before the fix; the read after it says what remains.
    (read([]), [MODEL, LIMIT], None, False, 'ok', [MODEL, LIMIT], [MODEL, LIMIT], [], None),
    (read([LIMIT]), [MODEL, LIMIT], None, False, 'drift', [MODEL, LIMIT], [MODEL], [LIMIT], None),
    # A failed fix (rolled back, no read after it): nothing counts as fixed, and the host failed.
    (read([MODEL]), [MODEL], 'h: verification failed', False, 'failed', [MODEL], [], [MODEL],
     'h: verification failed'),
    # Lost during the fix (no deferred failure, no read after it): failed, not "drift remains", nothing fixed.
    (read([MODEL]), [MODEL], None, True, 'failed', [MODEL], [], [MODEL], LOST),
    # A deferred failure says more than "lost".
    (read([MODEL]), [MODEL], 'h: verification failed', True, 'failed', [MODEL], [], [MODEL],
     'h: verification failed'),
    # No read at all.
    (None, NOT_READ, None, False, 'failed', [], [], [],
     'h: not checked (its read or preflight failed; see the output above)'),
    (None, NOT_READ, None, True, 'failed', [], [], [],
     'h: not checked (its read or preflight failed; see the output above)'),
    ({'unreachable': True, 'msg': 'Failed to connect'}, NOT_READ, None, False, 'failed', [], [], [],
     'h: not checked (unreachable; see the output above)'),
    # A read that failed its own way, with a deferred failure that names it.
    ({'failed': True, 'msg': 'boom'}, NOT_READ, 'h: boom', True, 'failed', [], [], [], 'h: boom'),
])
def test_host_outcomes(state, kept, failure, lost, outcome, drift, fixed, remaining, failed):
    entry, got, dummy = host_entry('h', state, kept, failure, lost)
    assert got == outcome
    assert (entry['drift'], entry['fixed'], entry['remaining'], entry['failed']) == (drift, fixed, remaining, failed)


def test_the_entry_keeps_only_what_names_the_model():
    entry = host_entry('h', read([], EFFECTIVE))[0]
    assert entry['effective_model'] == {'model': 'claude-sonnet-4-6', 'setting': 'claude-sonnet-4-6',
                                        'source': '/srv/a/.claude/settings.json'}
    assert 'fs.nr_open' in entry['checked'] and 'effective LimitNOFILE' in entry['checked']


@pytest.mark.parametrize('state, kept, failure, lines', [
    (read([]), NOT_READ, None, ['ok      h: no drift']),
    (read([MODEL]), NOT_READ, None, [
        'DRIFT   h: 1 drifted, 0 fixed',
        '          model in /srv/a/.claude/settings.json: claude-haiku-4-5 (expected claude-sonnet-4-6)']),
    (read([]), [MODEL, LIMIT], None, [
        'FIXED   h: 2 drifted, 2 fixed',
        '          model in /srv/a/.claude/settings.json: claude-haiku-4-5 (expected claude-sonnet-4-6)',
        '          LimitNOFILE drop-in 50-limits.conf: LimitNOFILE=4096 (expected LimitNOFILE=16384)']),
    (None, NOT_READ, None, ['FAILED  h: not checked (its read or preflight failed; see the output above)']),
])
def test_summary_lines(state, kept, failure, lines):
    assert host_entry('h', state, kept, failure)[2] == lines


def test_the_report_sorts_hosts_by_outcome_in_play_order():
    report = drift_report([
        ('c', read([MODEL]), NOT_READ, None, False),
        ('a', read([]), NOT_READ, None, False),
        ('b', None, NOT_READ, None, True),
        ('d', read([]), [LIMIT], None, False),
        ('e', read([LIMIT]), NOT_READ, None, False),
    ], 'remediate', '2026-11-30T08:00:00Z', 1)
    assert list(report['hosts']) == ['c', 'a', 'b', 'd', 'e']
    assert report['hosts_with_drift'] == ['c', 'e'] and report['hosts_failed'] == ['b']
    assert (report['mode'], report['finished'], report['check_mode']) == ('remediate', '2026-11-30T08:00:00Z', True)
    assert report['summary_lines'][0] == 'DRIFT   c: 1 drifted, 0 fixed'
    assert report['summary_lines'][2:4] == ['ok      a: no drift', 'FAILED  b: not checked (its read or preflight '
                                            'failed; see the output above)']


def test_an_empty_play_reports_nothing_and_no_failure():
    report = drift_report([], 'report', '2026-11-30T08:00:00Z', False)
    assert report['hosts'] == {} and report['hosts_failed'] == [] and report['summary_lines'] == []
