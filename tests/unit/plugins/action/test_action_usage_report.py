# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the usage_report action plugin, run as the controller runs it (in a fresh Python), against real files."""

from __future__ import annotations

import json
import os
import re

from ansible_collections.jada.agent.plugins.module_utils.usage_report import USAGE_FACT
from ansible_collections.jada.agent.tests.unit.plugins.action import controller_harness

SONNET = {'requests': 2, 'input_tokens': 10, 'output_tokens': 10, 'cache_creation_input_tokens': 0,
          'cache_read_input_tokens': 0, 'api_errors': 0, 'cost_usd': 0.1}


def read(rollout=True):
    window = dict(SONNET, tasks=1, cost_per_day=0.05, p50_ms=100, p95_ms=200, tokens_per_task=20.0, error_rate=0.0)
    comparison = {'rollout': None}
    if rollout:
        comparison = {'rollout': {'time': '2026-11-28T09:00:00Z', 'rollout_id': 'r1', 'result': 'complete'},
                      'window_days': 7,
                      'before': {'since': 's', 'until': 'u', 'days': 7.0, 'models': {'claude-sonnet-4-5': window}},
                      'after': {'since': 's', 'until': 'u', 'days': 2.0, 'models': {'claude-sonnet-4-6': window}}}
    return {'changed': False, 'models': {'claude-sonnet-4-6': SONNET}, 'totals': SONNET, 'latency': {},
            'comparison': comparison}


def run_action(args, hostvars, play_hosts=None, check_mode=False):
    task_vars = {'hostvars': hostvars, 'ansible_play_hosts_all': play_hosts or list(hostvars)}
    return controller_harness.run_action('usage_report', args, task_vars, check_mode)[0]


def written(directory):
    names = sorted(os.listdir(str(directory)))
    assert names[:2] == ['latest.html', 'latest.json']
    assert re.match(r'^usage-\d{4}-\d\d-\d\dT\d{6}Z\.html$', names[2]) and names[3] == names[2][:-4] + 'json'
    first, latest = [json.loads((directory / name).read_text(encoding='utf-8')) for name in (names[3], names[1])]
    assert first == latest and first['finished'].replace(':', '') in names[2]
    assert (directory / names[2]).read_bytes() == (directory / 'latest.html').read_bytes()
    return latest, (directory / 'latest.html').read_text(encoding='utf-8')


def test_every_host_read_writes_four_files_and_passes(tmp_path):
    result = run_action({'directory': str(tmp_path / 'usage')}, {'a': {USAGE_FACT: read()},
                                                                 'b': {USAGE_FACT: read(False)}})
    assert result['failed'] is False and result['changed'] is False and result['_ansible_verbose_always'] is True
    assert result['msg'][0].startswith('fleet   1 host(s) compared around their last rollout: cost per day')
    assert result['msg'][2] == 'ok      b: no completed rollout to compare around'
    report, page = written(tmp_path / 'usage')
    assert sorted(report['hosts']) == ['a', 'b'] and report['check_mode'] is False
    assert result['paths'][1] == str(tmp_path / 'usage' / 'latest.json')
    assert result['paths'][3] == str(tmp_path / 'usage' / 'latest.html')
    assert page.count('<svg') == 4
    assert oct(os.stat(str(tmp_path / 'usage')).st_mode & 0o777) == oct(0o750)


def test_a_host_not_read_fails_the_task_after_the_report(tmp_path):
    hostvars = {'a': {USAGE_FACT: read()}, 'gone': {USAGE_FACT: {'unreachable': True, 'msg': 'Failed to connect'}},
                'stopped': {}}
    result = run_action({'directory': str(tmp_path)}, hostvars, check_mode=True)
    assert result['failed'] is True and result['hosts_not_read'] == ['gone', 'stopped']
    assert result['msg'][-1] == '2 host(s) not read: gone, stopped; report: %s' % (tmp_path / 'latest.html')
    report, page = written(tmp_path)
    assert report['check_mode'] is True and 'Failed to connect' not in json.dumps(report) + page


def test_only_the_hosts_of_the_play_are_reported(tmp_path):
    # hostvars holds every host of the inventory; --limit leaves only some of them in the play.
    result = run_action({'directory': str(tmp_path)}, {'a': {USAGE_FACT: read()}, 'b': {}}, ['a'])
    assert result['failed'] is False and list(written(tmp_path)[0]['hosts']) == ['a']


def test_a_directory_is_required():
    result = run_action({}, {})
    assert result['failed'] is True and result['msg'] == 'usage_report needs a directory for the report'
