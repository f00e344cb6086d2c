# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy
import hashlib

import pytest

from ansible_collections.jada.agent.plugins.module_utils import orchestrator_plan as op

USER = '~jada/.claude/settings.json'
PROJECT = '/srv/jada/orchestrator/.claude/settings.json'
SOCKET = '/etc/systemd/system/jada-agent.socket'
ENV_FILE = '/etc/jada/jada-agent.env'
LOGIN = '/etc/security/limits.d/50-jada-agent.conf'


def sha(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


DESIRED = {
    'model': 'claude-sonnet-4-6', 'allowed_models': [], 'cli_version': '2.1.328',
    'cli_package': '@anthropic-ai/claude-code-linux-x64', 'unit_sha256': 'a' * 64, 'socket_sha256': 'b' * 64,
    'environment_file': ENV_FILE, 'environment_sha256': 'c' * 64, 'inbox': '/run/jada-agent/tasks', 'nofile': 65536,
    'manage_nr_open': False, 'manage_file_max': False, 'dropin_name': '50-limits.conf', 'login_user': '',
    'login_file': LOGIN, 'enabled': True,
}

PLANNED = {'model': 'claude-sonnet-4-6', 'setting': 'claude-sonnet-4-6', 'source': PROJECT, 'skipped': [],
           'warnings': [], 'fatal': None, 'from_settings_files': True}

# A host that is exactly as DESIRED wants it.
CONVERGED = {
    'service': {'name': 'jada-agent', 'load_state': 'loaded', 'active_state': 'active', 'sub_state': 'running',
                'main_pid': 812, 'n_restarts': 0, 'enabled': True, 'stale_inputs': [], 'restart_loop': False},
    'user': {'name': 'jada', 'exists': True, 'home': '/home/jada'},
    'unit': {'path': '/etc/systemd/system/jada-agent.service', 'sha256': 'a' * 64},
    'dropins': {'50-limits.conf': sha(op.dropin_content(65536))},
    'file_digests': {SOCKET: 'b' * 64, ENV_FILE: 'c' * 64, LOGIN: None},
    'limits': {'nofile_soft': 65536, 'nofile_hard': 65536},
    'kernel': {'nr_open': 1048576, 'file_max': 9223372036854775807},
    'settings': [{'path': USER, 'model': 'claude-sonnet-4-6', 'error': None},
                 {'path': PROJECT, 'model': 'claude-sonnet-4-6', 'error': None}],
    'overrides': [],
    'effective_model': {'model': 'claude-sonnet-4-6', 'setting': 'claude-sonnet-4-6', 'source': PROJECT, 'skipped': [],
                        'warnings': [], 'fatal': None},
    'cli': {'path': '/opt/jada/bin/claude', 'version': '2.1.328', 'package': '@anthropic-ai/claude-code-linux-x64'},
    'agent': {'is_error': False, 'models': ['claude-sonnet-4-6']},
}


def changed(base, **paths):
    """A deep copy of base with dotted paths (double underscores) replaced."""
    result = copy.deepcopy(base)
    for path, value in paths.items():
        keys = path.split('__')
        target = result
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1] if not isinstance(target, list) else int(keys[-1])] = value
    return result


def test_a_converged_host_has_nothing_pending():
    result = op.plan(CONVERGED, DESIRED, PLANNED)
    assert (result['pending'], result['drift'], result['refusals'], result['restart']) == (False, [], [], [])


# Each row: what differs on the host, what the plan must change and the check its drift item names.
@pytest.mark.parametrize('state, key, value, check', [
    (changed(CONVERGED, settings__1__model='claude-haiku-4-5'), 'settings_files', [PROJECT], 'model in ' + PROJECT),
    (changed(CONVERGED, settings__0__model=None, settings__0__error='line 1'), 'settings_files', [USER], 'model in ' + USER),
    (changed(CONVERGED, cli__version='2.1.327'), 'cli', True, 'Claude Code CLI /opt/jada/bin/claude'),
    (changed(CONVERGED, cli__package='@anthropic-ai/claude-code-linux-arm64'), 'cli', True, 'Claude Code CLI /opt/jada/bin/claude'),
    (changed(CONVERGED, unit__sha256=None), 'unit', True, 'unit /etc/systemd/system/jada-agent.service'),
    (changed(CONVERGED, file_digests={SOCKET: 'x', ENV_FILE: 'c' * 64}), 'socket', True, 'task inbox /run/jada-agent/tasks (jada-agent.socket)'),
    (changed(CONVERGED, file_digests={SOCKET: 'b' * 64, ENV_FILE: None}), 'environment', True, 'environment file ' + ENV_FILE),
    (changed(CONVERGED, service__active_state='failed'), 'start', True, 'service jada-agent'),
    (changed(CONVERGED, service__enabled=False), 'start', True, 'service jada-agent enabled at boot'),
    (changed(CONVERGED, dropins={}), 'limits', 'dropin', 'LimitNOFILE drop-in 50-limits.conf'),
])
def test_what_differs_is_planned_and_listed(state, key, value, check):
    result = op.plan(state, DESIRED, PLANNED)
    if value == 'dropin':
        assert result['limits']['dropin'] is True
    else:
        assert result[key] == value
    assert result['pending'] is True
    assert check in [item['check'] for item in result['drift']]


@pytest.mark.parametrize('state, reason', [
    # Configured right, but the process got another limit: a restart alone applies it.
    (changed(CONVERGED, limits={'nofile_soft': 1024, 'nofile_hard': 524288}), 'LimitNOFILE 65536 is configured'),
    # The files say Sonnet, the running agent still answers on Haiku.
    (changed(CONVERGED, agent={'is_error': False, 'models': ['claude-haiku-4-5']}), "latest answer came from claude-haiku-4-5"),
])
def test_a_restart_alone_applies_what_is_configured(state, reason):
    result = op.plan(state, DESIRED, PLANNED)
    assert result['pending'] is True and len(result['restart']) == 1 and reason in result['restart'][0]
    assert not result['limits']['dropin'] and not result['settings_files']


@pytest.mark.parametrize('agent', [
    None,
    {'is_error': True, 'models': ['claude-haiku-4-5']},
    {'is_error': False, 'models': ['claude-haiku-4-5', 'claude-sonnet-4-6']},
])
def test_answers_that_prove_nothing_are_no_drift(agent):
    assert op.plan(changed(CONVERGED, agent=agent), DESIRED, PLANNED)['pending'] is False


@pytest.mark.parametrize('desired, state, planned, refusal', [
    (dict(DESIRED, allowed_models=['claude-haiku-4-5']), CONVERGED, PLANNED,
     'model claude-sonnet-4-6 is not in jada_agent_allowed_models claude-haiku-4-5'),
    (dict(DESIRED, model='sonnet', allowed_models=['sonnet']), CONVERGED, dict(PLANNED, model='claude-sonnet-5-5'),
     'does not list claude-sonnet-5-5, the ID sonnet resolves to'),
    (DESIRED, CONVERGED, dict(PLANNED, model='claude-haiku-4-5', source='--model in ExecStart of jada-agent',
                              from_settings_files=False),
     'would request claude-haiku-4-5 from --model in ExecStart of jada-agent'),
    (DESIRED, CONVERGED, dict(PLANNED, model=None, warnings=[{'kind': 'unknown-cli-version', 'msg': 'no facts'}]),
     'would request no known model'),
    (DESIRED, CONVERGED, dict(PLANNED, model='claude-haiku-4-5',
                              warnings=[{'kind': 'available-models', 'msg': 'not in availableModels'}]),
     'not in availableModels'),
    (DESIRED, changed(CONVERGED, effective_model__skipped=[{'path': PROJECT, 'reason': 'line 2 column 1: trailing comma'}]),
     PLANNED, 'would skip %s: line 2 column 1: trailing comma' % PROJECT),
    (DESIRED, changed(CONVERGED, effective_model__fatal='/etc/claude-code/managed-settings.json: invalid'), PLANNED,
     'would not start: /etc/claude-code/managed-settings.json: invalid'),
    (dict(DESIRED, nofile=2147483646), CONVERGED, PLANNED, 'jada_agent_nofile is 2147483646'),
    (dict(DESIRED, nofile='lots'), CONVERGED, PLANNED, 'jada_agent_nofile is lots'),
    (dict(DESIRED, nofile=0), CONVERGED, PLANNED, 'jada_agent_nofile is 0'),
    (dict(DESIRED, nofile=2097152), CONVERGED, PLANNED, "above this host's fs.nr_open (1048576)"),
])
def test_refusals(desired, state, planned, refusal):
    refusals = op.plan(state, desired, planned)['refusals']
    assert len(refusals) == 1 and refusal in refusals[0]


def test_nr_open_is_raised_when_allowed():
    result = op.plan(CONVERGED, dict(DESIRED, nofile=2097152, manage_nr_open=True), PLANNED)
    assert (result['refusals'], result['limits']['nr_open'], result['limits']['nofile']) == ([], True, 2097152)


@pytest.mark.parametrize('nofile, nr_open, expected', [(None, 1048576, None), ('max', 1048576, 1048576), (4096, 1048576, 4096),
                                                       ('8192', 1048576, 8192), ('', 1048576, None), ('max', None, None)])
def test_effective_nofile(nofile, nr_open, expected):
    assert op.effective_nofile(nofile, nr_open) == expected


# ansible-core before 2.19 renders every templated value to text: a templated null arrives as '', a number as its
# digits. Each form must plan exactly as its native value does on 2.19.
@pytest.mark.parametrize('as_text, native', [
    ('', None),
    ('  ', None),
    ('65536', 65536),
    ('16384', 16384),
    ('max', 'max'),
    ('2097152', 2097152),
])
def test_nofile_as_text_plans_as_its_value(as_text, native):
    state = changed(CONVERGED, dropins={}, limits={'nofile_soft': 1024, 'nofile_hard': 1024})
    assert op.plan(state, dict(DESIRED, nofile=as_text), PLANNED) == op.plan(state, dict(DESIRED, nofile=native), PLANNED)


@pytest.mark.parametrize('nofile, expected', [
    (None, None), ('', None), (' ', None), (0, 0), ('0', '0'), ('max', 'max'), (65536, 65536), ('65536', '65536'),
])
def test_requested_nofile(nofile, expected):
    assert op.requested_nofile(nofile) == expected


@pytest.mark.parametrize('nofile, problem', [
    (None, False), ('', False), ('  ', False), ('max', False), (65536, False), ('65536', False),
    (0, True), ('0', True), ('lots', True), ('-1', True), (2147483646, True), ('2147483646', True),
])
def test_nofile_problem(nofile, problem):
    assert (op.nofile_problem(nofile) is not None) is problem


def test_unmanaged_limits_are_left_alone():
    state = changed(CONVERGED, dropins={}, limits={'nofile_soft': 1024, 'nofile_hard': 1024})
    result = op.plan(state, dict(DESIRED, nofile=None), PLANNED)
    assert (result['pending'], result['limits']['nofile']) == (False, None)


def test_login_limits_follow_the_number():
    result = op.plan(CONVERGED, dict(DESIRED, login_user='jada'), PLANNED)
    assert result['limits']['login'] is True
    assert result['limits']['login_content'].splitlines()[1:] == ['jada soft nofile 65536', 'jada hard nofile 65536']
    converged = changed(CONVERGED, file_digests={SOCKET: 'b' * 64, ENV_FILE: 'c' * 64, LOGIN: sha(result['limits']['login_content'])})
    assert op.plan(converged, dict(DESIRED, login_user='jada'), PLANNED)['pending'] is False


def test_an_alias_warns_and_overrides_are_drift():
    planned = dict(PLANNED, warnings=[{'kind': 'alias', 'msg': 'alias "sonnet" requests claude-sonnet-5-5'}])
    state = changed(CONVERGED, overrides=[{'kind': 'file', 'source': '/etc/claude-code/managed-settings.json', 'model': 'claude-haiku-4-5'}])
    result = op.plan(state, DESIRED, planned)
    assert result['warnings'] == ['alias "sonnet" requests claude-sonnet-5-5']
    assert result['drift'][0]['check'] == 'model override: /etc/claude-code/managed-settings.json'


# --- the host as found ------------------------------------------------------------------------------------

@pytest.mark.parametrize('service, problem', [
    ({}, None),
    ({'load_state': 'not-found', 'active_state': 'inactive', 'sub_state': 'dead'}, None),
    ({'active_state': 'inactive', 'sub_state': 'dead'}, None),
    ({'active_state': 'failed', 'sub_state': 'failed'}, 'the agent jada-agent has failed (failed/failed) before any change'),
    ({'restart_loop': True, 'active_state': 'activating', 'sub_state': 'auto-restart', 'n_restarts': 7},
     'the agent jada-agent is restarting in a loop (activating/auto-restart, NRestarts 7) before any change'),
])
def test_service_problem(service, problem):
    assert op.service_problem(dict(CONVERGED['service'], **service)) == problem


@pytest.mark.parametrize('state, repair, refusal, warning', [
    (CONVERGED, False, None, None),
    (changed(CONVERGED, user__exists=False), False, 'the service user jada does not exist on this host', None),
    # A missing user cannot be repaired by converging: the role does not manage users.
    (changed(CONVERGED, user__exists=False), True, 'the service user jada does not exist on this host', None),
    (changed(CONVERGED, settings=[{'path': PROJECT, 'model': None, 'error': PROJECT + ': cannot be read: Is a directory'}]),
     False, 'settings file %s cannot be used: %s: cannot be read: Is a directory. Fix it by hand' % (PROJECT, PROJECT), None),
    (changed(CONVERGED, service__active_state='failed', service__sub_state='failed'), False,
     'the agent jada-agent has failed (failed/failed) before any change. Bring it back to health first', None),
    (changed(CONVERGED, service__active_state='failed', service__sub_state='failed'), True, None,
     'the agent jada-agent has failed (failed/failed) before any change; converging it anyway (jada_agent_repair).'),
    (changed(CONVERGED, service__restart_loop=True), False, 'the agent jada-agent is restarting in a loop', None),
])
def test_host_findings(state, repair, refusal, warning):
    refusals, warnings = op.host_findings(state, dict(DESIRED, repair=repair))
    assert [item[:len(refusal)] for item in refusals] == ([refusal] if refusal else [])
    assert warnings == ([warning] if warning else [])


@pytest.mark.parametrize('state, healthy', [
    (CONVERGED, True),
    (changed(CONVERGED, service__restart_loop=True), False),
    (changed(CONVERGED, service__active_state='failed'), False),
    (changed(CONVERGED, service__active_state='inactive'), False),
])
def test_healthy_before_any_change(state, healthy):
    assert op.plan(state, DESIRED, PLANNED)['healthy'] is healthy


def test_an_agent_older_than_its_configuration_is_pending_a_restart():
    result = op.plan(changed(CONVERGED, service__stale_inputs=[PROJECT]), DESIRED, PLANNED)
    assert result['pending'] is True
    assert result['restart'] == ['the agent started before %s changed' % PROJECT]
    assert result['drift'] == [{'check': 'agent process of jada-agent', 'expected': 'started after its configuration '
                                'last changed', 'actual': 'started before %s changed' % PROJECT}]


def test_a_stopped_agent_has_no_stale_inputs_to_restart_for():
    result = op.plan(changed(CONVERGED, service__stale_inputs=[PROJECT], service__active_state='inactive'), DESIRED, PLANNED)
    assert result['restart'] == [] and result['start'] is True


@pytest.mark.parametrize('mode, said', [
    ('rollback', 'this run first puts back its snapshot, the files from before it, then rolls out'),
    ('finish', 'this run converges from where it stopped (jada_agent_unfinished_rollout: finish), and keeps its snapshot'),
])
def test_an_unfinished_rollout_is_pending_and_said(mode, said):
    state = dict(CONVERGED, rollouts={'count': 2, 'unfinished': {'id': 'r7', 'phase': 'started', 'since': 1, 'time': 1}})
    result = op.plan(state, dict(DESIRED, unfinished_rollout=mode), PLANNED)
    assert (result['pending'], result['unfinished']) == (True, 'r7')
    assert result['drift'] == [{'check': 'rollout r7', 'expected': 'finished',
                                'actual': 'unfinished: its snapshot is still "started"'}]
    assert result['warnings'] == ['rollout r7 did not finish on this host; ' + said]


@pytest.mark.parametrize('rollouts', [None, {'count': 0, 'last': None, 'unfinished': None}])
def test_no_unfinished_rollout(rollouts):
    result = op.plan(dict(CONVERGED, rollouts=rollouts), DESIRED, PLANNED)
    assert (result['pending'], result['unfinished']) == (False, None)


@pytest.mark.parametrize('before_start, drift', [(True, False), (False, True), (None, True)])
def test_an_answer_from_before_the_agents_start_is_no_answer_drift(before_start, drift):
    state = changed(CONVERGED, agent={'is_error': False, 'models': ['claude-haiku-4-5'], 'before_start': before_start})
    assert bool(op.answer_drift(state, PLANNED)) is drift


REFUSED_PLAN = {'plan': {'refusals': ['the agent jada-agent has failed (failed/failed) before any change',
                                      'jada_agent_nofile 2147483646 is above fs.nr_open.']}}


@pytest.mark.parametrize('input_problems, read, expected', [
    # Bad input: refused before any read, whatever a read would say.
    (['jada_agent_model is "": give the model ID.'], None,
     ('input', 'h1: jada_agent_model is "": give the model ID. Nothing was read or changed.')),
    (['a.', 'b.'], REFUSED_PLAN, ('input', 'h1: a. b. Nothing was read or changed.')),
    # A plan that refuses: every reason, in order.
    ([], REFUSED_PLAN,
     ('plan', 'h1: the agent jada-agent has failed (failed/failed) before any change jada_agent_nofile 2147483646 is '
              'above fs.nr_open. Nothing was changed on any host.')),
    # Nothing to refuse.
    ([], None, (None, None)),
    ([], {'plan': {'refusals': []}}, (None, None)),
    ([], {'service': {}}, (None, None)),
    # A read that did not come back reports itself; it is no refusal.
    ([], dict(REFUSED_PLAN, failed=True, msg='boom'), (None, None)),
    ([], dict(REFUSED_PLAN, unreachable=True), (None, None)),
])
def test_refusal(input_problems, read, expected):
    assert op.refusal('h1', input_problems, read) == expected
