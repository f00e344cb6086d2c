# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the drift_report action plugin, run as the controller runs it (in a fresh Python), against real files."""

from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.jada.agent.tests.unit.plugins.action import controller_harness


DRIFT = [{'check': 'model in /srv/a/.claude/settings.json', 'expected': 'claude-sonnet-4-6',
          'actual': 'claude-haiku-4-5'}]


def read(drift):
    return {'plan': {'drift': drift, 'pending': bool(drift)},
            'effective_model': {'model': 'claude-sonnet-4-6', 'source': '/srv/a/.claude/settings.json'}}


def run_action(args, hostvars, play_hosts=None, check_mode=False, active=None):
    play_hosts = play_hosts or list(hostvars)
    task_vars = {'hostvars': hostvars, 'ansible_play_hosts_all': play_hosts,
                 'ansible_play_hosts': play_hosts if active is None else active}
    return controller_harness.run_action('drift_report', args, task_vars, check_mode)[0]


def written(directory):
    names = sorted(os.listdir(str(directory)))
    assert len(names) == 2 and names[1] == 'latest.json' and re.match(r'^drift-\d{4}-\d\d-\d\dT\d{6}Z\.json$', names[0])
    first, latest = [json.loads((directory / name).read_text(encoding='utf-8')) for name in names]
    assert first == latest and first['finished'].replace(':', '') in names[0]
    return latest


def test_a_clean_play_writes_both_files_and_passes(tmp_path):
    result = run_action({'directory': str(tmp_path / 'drift')}, {'a': {'__jada_agent_state': read([])}})
    assert result['failed'] is False and result['changed'] is False
    assert result['msg'] == ['ok      a: no drift'] and result['_ansible_verbose_always'] is True
    report = written(tmp_path / 'drift')
    assert report['hosts']['a']['drift'] == [] and report['mode'] == 'report' and report['check_mode'] is False
    assert result['paths'][-1] == str(tmp_path / 'drift' / 'latest.json')


@pytest.mark.parametrize('fail_on_drift, failed', [(True, True), ('yes', True), (False, False), ('false', False)])
def test_drift_fails_the_task_unless_told_only_to_report(tmp_path, fail_on_drift, failed):
    result = run_action({'directory': str(tmp_path), 'fail_on_drift': fail_on_drift},
                        {'a': {'__jada_agent_state': read(DRIFT)}, 'b': {'__jada_agent_state': read([])}})
    assert result['failed'] is failed and result['hosts_with_drift'] == ['a']
    assert result['msg'][0] == 'DRIFT   a: 1 drifted, 0 fixed'
    assert (result['msg'][-1] == '1 host(s) with drift remaining, 0 failed; report: %s' % (tmp_path / 'latest.json')) \
        is failed
    assert written(tmp_path)['hosts_with_drift'] == ['a']


def test_a_host_without_a_read_is_reported_failed_and_the_remediated_one_fixed(tmp_path):
    hostvars = {
        'gone': {'__jada_agent_state': {'unreachable': True, 'msg': 'Failed to connect', 'changed': False}},
        'fixed': {'__jada_agent_state': read([]), '__jada_agent_drift': DRIFT},
        'stopped': {},
    }
    result = run_action({'directory': str(tmp_path), 'mode': 'remediate'}, hostvars, check_mode=True)
    assert result['failed'] is True and result['hosts_failed'] == ['gone', 'stopped']
    report = written(tmp_path)
    assert report['mode'] == 'remediate' and report['check_mode'] is True
    assert report['hosts']['fixed']['fixed'] == DRIFT and report['hosts']['fixed']['remaining'] == []
    assert report['hosts']['gone']['failed'] == 'gone: not checked (unreachable; see the output above)'
    assert 'Failed to connect' not in json.dumps(report)


def test_a_host_lost_during_the_fix_is_reported_failed_not_with_drift_remaining(tmp_path):
    # Read with drift, then gone from the play before the read after the fix, with no deferred failure.
    hostvars = {'lost': {'__jada_agent_state': read(DRIFT), '__jada_agent_drift': DRIFT},
                'fixed': {'__jada_agent_state': read([]), '__jada_agent_drift': DRIFT}}
    result = run_action({'directory': str(tmp_path), 'mode': 'remediate'}, hostvars, active=['fixed'])
    assert result['failed'] is True
    assert (result['hosts_failed'], result['hosts_with_drift']) == (['lost'], [])
    lost = written(tmp_path)['hosts']['lost']
    assert lost['failed'].startswith('lost: lost after its read') and lost['fixed'] == []
    assert lost['remaining'] == DRIFT


def test_only_the_hosts_of_the_play_are_reported(tmp_path):
    # hostvars holds every host of the inventory; --limit leaves only some of them in the play.
    result = run_action({'directory': str(tmp_path)}, {'a': {'__jada_agent_state': read([])}, 'b': {}}, ['a'])
    assert result['failed'] is False and list(written(tmp_path)['hosts']) == ['a']


def test_hosts_named_explicitly_are_the_ones_reported_and_summed_up_in_that_order(tmp_path):
    hostvars = {'a': {'__jada_agent_state': read([])}, 'b': {'__jada_agent_state': read(DRIFT)}, 'c': {}}
    result = run_action({'directory': str(tmp_path), 'hosts': ['b', 'a']}, hostvars)
    assert result['failed'] is True and result['hosts_with_drift'] == ['b'] and result['hosts_failed'] == []
    assert result['msg'][0] == 'DRIFT   b: 1 drifted, 0 fixed' and 'ok      a: no drift' in result['msg']
    assert sorted(written(tmp_path)['hosts']) == ['a', 'b']


@pytest.mark.parametrize('args, fragment', [
    ({}, 'needs a directory'),
    ({'mode': 'fix'}, ('mode (jada_agent_drift_mode of drift_remediation.yml) is fix; use report (change nothing) '
                       'or remediate (fix drift)')),
    ({'fail_on_drift': 'maybe'}, 'fail_on_drift must be a boolean'),
])
def test_bad_arguments_fail_and_write_nothing(tmp_path, args, fragment):
    if args:
        args = dict(args, directory=str(tmp_path / 'drift'))
    result = run_action(args, {'a': {'__jada_agent_state': read([])}})
    assert result['failed'] and fragment in result['msg']
    assert not (tmp_path / 'drift').exists()


def test_an_unwritable_directory_fails_naming_it(tmp_path):
    (tmp_path / 'file').write_text('not a directory')
    result = run_action({'directory': str(tmp_path / 'file' / 'drift')}, {'a': {'__jada_agent_state': read([])}})
    assert result['failed'] and 'cannot write the drift report to %s' % (tmp_path / 'file' / 'drift') in result['msg']
