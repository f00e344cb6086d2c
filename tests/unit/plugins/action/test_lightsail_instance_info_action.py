# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the lightsail_instance_info action plugin: when it reads inside the controller, and that doing so
returns exactly what the module returns.

Controller code runs in fresh Pythons (ansible-playbook, or a small script): importing it would switch
ansible-core's module_utils into controller mode for the rest of the test process, which the other tests run as a
target.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.jada.agent.tests.lightsail_endpoint.server import LightsailEndpoint
from ansible_collections.jada.agent.tests.unit.plugins.modules.lightsail_fixtures import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    REGION,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.model_files_fixtures import COLLECTIONS_ROOT


OMIT = object()
SESSION_TOKEN = 'FwoGZXIvYXdzEJADAfakeSessionTokenNeverPrintMe'
# A task environment variable: the one difference between the two tasks of a case, and what sends the second one
# to the module.
VIA_MODULE = {'JADA_TEST_VIA_MODULE': '1'}

# (id, endpoint scenario, module arguments on top of region, endpoint and keys, task keywords)
CASES = [
    ('names-mixed', {'instances': {'web-1': {}, 'web-2': {'states': ['stopped']}}},
     dict(names=['web-2', 'gone-1', 'web-1', 'web-2'], fail_if_not_found=False), {}),
    ('one-running', {'instances': {'jada-agent': {'tags': {'role': 'agent'}}}},
     dict(name='jada-agent', expected_state='running'), {}),
    ('not-found', {}, dict(name='jada-agent'), {}),
    ('names-missing', {'instances': {'web-1': {}}}, dict(names=['gone-1', 'web-1']), {}),
    ('state-mismatch', {'instances': {'jada-agent': {'states': ['stopped']}}},
     dict(name='jada-agent', expected_state='running'), {}),
    ('wait-until-running', {'instances': {'jada-agent': {'states': ['pending', 'pending', 'running'],
                                                         'public_ip_after': 3}}},
     dict(name='jada-agent', expected_state='running', wait=True, wait_delay=0.01, wait_for_public_ip=True), {}),
    ('wait-timeout', {'instances': {'web-1': {'states': ['pending']}}},
     dict(names=['web-1'], expected_state='running', wait=True, wait_timeout=1, wait_delay=0.4), {}),
    ('check-mode', {'instances': {'jada-agent': {'states': ['stopped']}}},
     dict(name='jada-agent', expected_state='running'), dict(check_mode=True)),
    ('wait-without-condition', {}, dict(name='jada-agent', wait=True), {}),
    ('name-and-names', {}, dict(name='a-1', names=['b-2']), {}),
    ('neither-name', {}, dict(), {}),
    ('unsupported-option', {}, dict(name='a-1', colour='red'), {}),
    ('wrong-type', {}, dict(name='a-1', wait_delay='soon'), {}),
    ('access-denied', {'instances': {'jada-agent': {}}, 'errors': [{'code': 'AccessDeniedException'}]},
     dict(names=['jada-agent']), {}),
    ('unknown-access-key', {'instances': {'jada-agent': {}}, 'access_keys': ['AKIAOTHERKEY00000001']},
     dict(name='jada-agent'), {}),
    ('secret-in-a-message', {}, dict(name=FAKE_SECRET_KEY), {}),
    ('profile', {'instances': {'jada-agent': {}}, 'access_keys': [FAKE_ACCESS_KEY]},
     dict(name='jada-agent', profile='jada', access_key=OMIT, secret_key=OMIT), {}),
    ('expired-token', {'instances': {'jada-agent': {}}, 'errors': [{'code': 'ExpiredTokenException'}]},
     dict(name='jada-agent', session_token=SESSION_TOKEN), {}),
    ('profile-and-keys', {}, dict(name='jada-agent', profile='jada'), {}),
    ('unknown-profile', {}, dict(name='jada-agent', profile='nobody', access_key=OMIT, secret_key=OMIT), {}),
    ('no-region', {}, dict(name='jada-agent', region=OMIT), {}),
    ('malformed-region', {}, dict(name='jada-agent', region='not a region!'), {}),
    ('alias-warning', {'instances': {'jada-agent': {}}}, dict(name='jada-agent', aws_access_key=FAKE_ACCESS_KEY), {}),
]
CASE_IDS = [case[0] for case in CASES]


def module_args(endpoint, extra):
    args = dict(region=REGION, endpoint_url=endpoint.url, access_key=FAKE_ACCESS_KEY, secret_key=FAKE_SECRET_KEY)
    args.update(extra)
    return {key: value for key, value in args.items() if value is not OMIT}


def task(index, path, endpoint, extra, keywords):
    """One task of the playbook; ``path`` is 'controller' or 'module'."""
    entry = {
        'name': f'{CASES[index][0]} {path}',
        'jada.agent.lightsail_instance_info': module_args(endpoint, extra),
        'delegate_to': 'localhost',
        'become': False,
        'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
        'ignore_errors': True,
        'register': f'case_{index}_{path}',
    }
    entry.update(keywords)
    if path == 'module':
        entry['environment'] = VIA_MODULE
    return entry


def isolated_environment(tmp_path):
    """The controller's environment without AWS settings of this machine, and with this collection."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(('AWS_', 'BOTO_', 'ANSIBLE_'))}
    credentials = tmp_path / 'credentials'
    credentials.write_text(f'[jada]\naws_access_key_id = {FAKE_ACCESS_KEY}\naws_secret_access_key = {FAKE_SECRET_KEY}\n',
                           encoding='utf-8')
    (tmp_path / 'ansible.cfg').write_text('[defaults]\ngathering = explicit\nretry_files_enabled = false\n',
                                          encoding='utf-8')
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_EC2_METADATA_DISABLED='true',
        ANSIBLE_CONFIG=str(tmp_path / 'ansible.cfg'),
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT,
        ANSIBLE_HOME=str(tmp_path / 'ansible-home'),
        ANSIBLE_NOCOLOR='1',
        PYTHONPATH=COLLECTIONS_ROOT,
    )
    return env


@pytest.fixture(scope='module')
def both_ways(tmp_path_factory):
    """Every case run by one playbook twice, in the controller and as a module, each against its own endpoint."""
    tmp_path = tmp_path_factory.mktemp('lightsail-action')
    endpoints = {}
    tasks = []
    try:
        for index, (dummy, scenario, extra, keywords) in enumerate(CASES):
            for path in ('controller', 'module'):
                endpoints[index, path] = endpoint = LightsailEndpoint(copy.deepcopy(scenario)).start()
                tasks.append(task(index, path, endpoint, extra, keywords))
        collected = {path: [f'{{{{ case_{index}_{path} }}}}' for index in range(len(CASES))]
                     for path in ('controller', 'module')}
        tasks.append({'name': 'Collect', 'jada.agent.write_report': {
            'content': collected, 'directory': str(tmp_path), 'names': ['results.json']}})
        playbook = [{'name': 'Both ways', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
        (tmp_path / 'playbook.yml').write_text(json.dumps(playbook), encoding='utf-8')
        (tmp_path / 'hosts.yml').write_text(json.dumps({'all': {'hosts': {'localhost': {
            'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}}}),
            encoding='utf-8')
        done = subprocess.run([sys.executable, '-m', 'ansible', 'playbook', '-vvv', '-i', str(tmp_path / 'hosts.yml'),
                               str(tmp_path / 'playbook.yml')], cwd=str(tmp_path), env=isolated_environment(tmp_path),
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
        results = json.loads((tmp_path / 'results.json').read_text(encoding='utf-8'))
        yield dict(results=results, stdout=done.stdout, stderr=done.stderr, endpoints=endpoints)
    finally:
        for endpoint in endpoints.values():
            endpoint.stop()


def section(stdout, title):
    """What -vvv printed for the task named ``title``."""
    match = re.search(r'^TASK \[%s\].*?(?=^TASK \[|^PLAY RECAP)' % re.escape(title), stdout, re.M | re.S)
    assert match, title
    return match.group(0)


def normalized(result, endpoint):
    """A result without what differs between two runs: timings, the endpoint's port, request IDs and dates."""
    text = json.dumps(result, sort_keys=True).replace(endpoint.url, 'ENDPOINT')
    text = re.sub(r'after waiting \d+\.\ds', 'after waiting N s', text)
    value = json.loads(text)
    value.pop('elapsed', None)
    metadata = value.get('response_metadata') or {}
    metadata.pop('request_id', None)
    for header in ('date', 'x-amzn-requestid'):
        metadata.get('http_headers', {}).pop(header, None)
    return value


@pytest.mark.parametrize('index', range(len(CASES)), ids=CASE_IDS)
def test_the_controller_returns_what_the_module_returns(both_ways, index):
    endpoints = both_ways['endpoints']
    in_controller = normalized(both_ways['results']['controller'][index], endpoints[index, 'controller'])
    as_module = normalized(both_ways['results']['module'][index], endpoints[index, 'module'])
    assert in_controller == as_module
    assert [record['operation'] for record in endpoints[index, 'controller'].requests] == \
        [record['operation'] for record in endpoints[index, 'module'].requests]


@pytest.mark.parametrize('index', range(len(CASES)), ids=CASE_IDS)
def test_each_task_took_the_expected_way(both_ways, index):
    name = CASES[index][0]
    in_controller = section(both_ways['stdout'], f'{name} controller')
    as_module = section(both_ways['stdout'], f'{name} module')
    assert 'runs as a module: the task sets environment variables for the module' in as_module
    assert 'ran in the controller' not in as_module
    if name == 'alias-warning':
        assert 'runs as a module: the options draw a warning or a deprecation' in in_controller
        assert 'ran in the controller' not in in_controller
    else:
        assert 'jada.agent.lightsail_instance_info ran in the controller' in in_controller
        assert 'runs as a module' not in in_controller


def test_results_are_what_the_cases_are_about(both_ways):
    results = dict(zip(CASE_IDS, both_ways['results']['controller']))
    assert [entry['exists'] for entry in results['names-mixed']['instances']] == [True, False, True]
    assert results['one-running']['instance']['tags'] == [{'key': 'role', 'value': 'agent'}]
    assert results['one-running']['instance']['created_at'] == '2025-01-01T00:00:00+00:00'
    assert results['wait-until-running']['public_ip_address'] == '203.0.113.10'
    assert results['check-mode']['failed'] and "is 'stopped', expected 'running'" in results['check-mode']['msg']
    assert results['unsupported-option']['msg'].startswith(
        'Unsupported parameters for (jada.agent.lightsail_instance_info) module: colour.')
    assert results['access-denied']['error']['code'] == 'AccessDeniedException'
    assert results['no-region']['msg'].startswith('The jada.agent.lightsail_instance_info module requires a region')
    assert results['profile-and-keys']['msg'] == 'Passing both a profile and access tokens is not supported.'
    assert results['profile']['state'] == 'running'
    assert both_ways['endpoints'][CASE_IDS.index('profile'), 'controller'].requests[0]['access_key_id'] == \
        FAKE_ACCESS_KEY
    assert results['expired-token']['error']['code'] == 'ExpiredTokenException'
    assert "'********'" in results['secret-in-a-message']['msg']
    assert 'Both option access_key and its alias aws_access_key are set.' in json.dumps(results['alias-warning'])
    failed = {name for name, result in results.items() if result.get('failed')}
    assert failed == {'not-found', 'names-missing', 'state-mismatch', 'wait-timeout', 'check-mode',
                      'wait-without-condition', 'name-and-names', 'neither-name', 'unsupported-option', 'wrong-type',
                      'access-denied', 'unknown-access-key', 'expired-token', 'secret-in-a-message',
                      'profile-and-keys', 'unknown-profile', 'no-region', 'malformed-region'}


def test_no_secret_in_any_result_or_output(both_ways):
    text = json.dumps(both_ways['results']) + both_ways['stdout'] + both_ways['stderr']
    assert FAKE_SECRET_KEY not in text
    assert SESSION_TOKEN not in text
    assert FAKE_SECRET_KEY.split('/', maxsplit=1)[0] not in text


def test_the_endpoints_saw_only_valid_signed_requests(both_ways):
    for endpoint in both_ways['endpoints'].values():
        endpoint.assert_clean()


# ---------------------------------------------------------------------------------------------------------------
# The decision and the stand-in, on ansible-core's own objects, in one controller process
# ---------------------------------------------------------------------------------------------------------------

CONTROLLER = r"""
import json, sys
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar
from ansible_collections.jada.agent.plugins.action import lightsail_instance_info as plugin
from ansible_collections.jada.agent.plugins.module_utils import lightsail

request = json.loads(sys.argv[1])
answer = {}

answer['reasons'] = [plugin.fallback_reason(dict(facts, core_version=tuple(facts['core_version'])))
                     for facts in request['facts']]

# Which way ActionModule.run goes, with both ways replaced by markers.
plugin.ModuleActionModule.run = lambda self, tmp=None, task_vars=None: {'way': 'module'}
plugin.ActionModule._run_in_controller = lambda self, tmp, task_vars: {'way': 'controller'}


def way(setup):
    loader = DataLoader()
    context = PlayContext()
    context.become = setup.get('become', False)
    task = Task()
    task.action = 'jada.agent.lightsail_instance_info'
    task.args = {'name': 'jada-agent'}
    task.async_val = setup.get('async', 0)
    task.environment = setup.get('environment')
    task.delegate_to = setup.get('delegate_to')
    task.check_mode = setup.get('check_mode', False)
    task_vars = setup['task_vars']
    for variables in [task_vars] + list(task_vars.get('ansible_delegated_vars', {}).values()):
        for key, value in list(variables.items()):
            if value == 'CONTROLLER_PYTHON':
                variables[key] = sys.executable
    action = plugin.ActionModule(task=task, connection=connection_loader.get(setup['connection'], context, None),
                                 play_context=context, loader=loader, templar=Templar(loader=loader, variables=task_vars),
                                 shared_loader_obj=None)
    return action.run(task_vars=task_vars)['way']


answer['ways'] = [way(setup) for setup in request['setups']]


def outcome(call):
    try:
        call()
    except plugin.ModuleDone as done:
        return {'done': done.result}
    except plugin.ModuleNeeded as needed:
        return {'needed': str(needed)}
    return {'returned': True}


def stand_in(args, check_mode=False):
    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
    context = plugin.task_context(args, 'jada.agent.lightsail_instance_info', check_mode=check_mode)
    return plugin.aws_module(AnsibleAWSModule, lambda **kwargs: plugin.ControllerModule(context, **kwargs),
                             lightsail.module_kwargs())


answer['stand_in'] = {name: outcome(lambda args=args: stand_in(args)) for name, args in request['stand_in'].items()}
module = stand_in(request['valid'], check_mode=True)
answer['check_mode'] = module.check_mode
answer['exit'] = outcome(lambda: module.exit_json(changed=False, secret=request['valid']['secret_key'], none=None))
answer['fail'] = outcome(lambda: module.fail_json('no ' + request['valid']['secret_key'], exception='Traceback ...',
                                                  changed=False))
answer['warn'] = outcome(lambda: module.warn('careful'))
answer['deprecate'] = outcome(lambda: module.deprecate('old', version='2.0.0'))
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
answer['module_class_restored'] = AnsibleAWSModule.default_settings['module_class'].__name__


def noisy(module):
    import warnings
    warnings.warn('a noisy library warning')
    module.exit_json(changed=False)


lightsail.run = noisy
answer['noisy'] = plugin.run_in_controller(plugin.task_context(request['valid'], 'jada.agent.lightsail_instance_info'))


def broken(module):
    raise ValueError('broken with ' + module.params['secret_key'])


lightsail.run = broken
try:
    plugin.run_in_controller(plugin.task_context(request['valid'], 'jada.agent.lightsail_instance_info'))
except AnsibleActionFail as exc:
    answer['broken'] = str(exc)
print(json.dumps(answer))
"""


def facts(**overrides):
    """An execution the controller can take over: local, no become, its own Python."""
    values = dict(core_version=[2, 19], transport='local', become=False, background=False, environment={},
                  interpreter='/venv/bin/python3', controller_python='/venv/bin/python3', error_tracebacks=False,
                  keep_remote_files=False)
    values.update(overrides)
    return values


FACTS = [
    (facts(), None),
    (facts(core_version=[2, 18]), 'ansible-core 2.18 is not a version the controller run is checked against'),
    (facts(core_version=[2, 20]), 'ansible-core 2.20 is not a version the controller run is checked against'),
    (facts(transport='ssh'), "the connection is 'ssh', not local"),
    (facts(transport='containers.podman.podman'), "the connection is 'containers.podman.podman', not local"),
    (facts(become=True), "become runs the module as another user, with that user's AWS configuration"),
    (facts(background=True), 'async runs the module in the background'),
    (facts(environment={'AWS_PROFILE': 'other'}), 'the task sets environment variables for the module'),
    (facts(interpreter='/usr/bin/python3'),
     "the module's Python (/usr/bin/python3) is not the controller's (/venv/bin/python3)"),
    (facts(interpreter=None), "the module's Python (None) is not the controller's (/venv/bin/python3)"),
    (facts(error_tracebacks=True), 'error tracebacks are on, and they would come from the module process'),
    (facts(keep_remote_files=True), 'remote files are kept for debugging'),
    (facts(transport='ssh', become=True), "the connection is 'ssh', not local"),
]

LOCAL = {'connection': 'local', 'task_vars': {'ansible_python_interpreter': 'CONTROLLER_PYTHON'}}
SETUPS = [
    (LOCAL, 'controller'),
    (dict(LOCAL, check_mode=True), 'controller'),
    (dict(LOCAL, environment=[{}]), 'controller'),
    ({'connection': 'local', 'delegate_to': 'localhost', 'task_vars': {
        'ansible_delegated_vars': {'localhost': {'ansible_python_interpreter': 'CONTROLLER_PYTHON'}}}}, 'controller'),
    ({'connection': 'local', 'delegate_to': 'localhost', 'task_vars': {
        'ansible_python_interpreter': 'CONTROLLER_PYTHON',
        'ansible_delegated_vars': {'localhost': {'ansible_python_interpreter': '/usr/bin/python3'}}}}, 'module'),
    ({'connection': 'local', 'task_vars': {}}, 'module'),
    ({'connection': 'local', 'task_vars': {'ansible_python_interpreter': '/usr/bin/python3'}}, 'module'),
    (dict(LOCAL, connection='ssh'), 'module'),
    (dict(LOCAL, become=True), 'module'),
    (dict(LOCAL, **{'async': 30}), 'module'),
    (dict(LOCAL, environment=[{'AWS_PROFILE': 'other'}]), 'module'),
]

VALID = dict(name='jada-agent', region=REGION, access_key=FAKE_ACCESS_KEY, secret_key=FAKE_SECRET_KEY)
STAND_IN = {
    'valid': VALID,
    'unsupported': dict(VALID, colour='red'),
    'exclusive': dict(VALID, names=['b-2']),
    'secret-in-error': dict(VALID, wait=FAKE_SECRET_KEY),
    'alias-warning': dict(VALID, aws_access_key=FAKE_ACCESS_KEY),
    'debug-logs': dict(VALID, debug_botocore_endpoint_logs=True),
}


@pytest.fixture(scope='module')
def controller():
    request = dict(facts=[row[0] for row in FACTS], setups=[row[0] for row in SETUPS], stand_in=STAND_IN, valid=VALID)
    done = subprocess.run([sys.executable, '-c', CONTROLLER, json.dumps(request)],
                          env=dict(os.environ, PYTHONPATH=COLLECTIONS_ROOT), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-5000:]
    return dict(json.loads(done.stdout), stderr=done.stderr)


@pytest.mark.parametrize('index', range(len(FACTS)), ids=[str(row[1]) for row in FACTS])
def test_fallback_reason(controller, index):
    assert controller['reasons'][index] == FACTS[index][1]


@pytest.mark.parametrize('index', range(len(SETUPS)), ids=[f'{index}-{row[1]}' for index, row in enumerate(SETUPS)])
def test_which_way_the_action_goes(controller, index):
    assert controller['ways'][index] == SETUPS[index][1]


def test_the_stand_in_validates_with_the_module_argument_spec(controller):
    outcomes = controller['stand_in']
    assert outcomes['valid'] == {'returned': True}
    assert outcomes['unsupported']['done']['msg'].startswith(
        'Unsupported parameters for (jada.agent.lightsail_instance_info) module: colour. Supported parameters include:')
    assert outcomes['exclusive']['done']['msg'] == 'parameters are mutually exclusive: name|names'
    assert outcomes['alias-warning'] == {'needed': 'the options draw a warning or a deprecation'}
    assert outcomes['debug-logs'] == {'needed': 'botocore debug logs are asked for'}
    for outcome in outcomes.values():
        if 'done' in outcome:
            assert outcome['done']['failed'] is True
            assert outcome['done']['invocation']['module_args']['secret_key'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert FAKE_SECRET_KEY not in json.dumps(outcomes)
    assert '********' in outcomes['secret-in-error']['done']['msg']


def test_the_stand_in_ends_runs_as_ansible_module_does(controller):
    assert controller['check_mode'] is True
    done = controller['exit']['done']
    assert done['changed'] is False and done['none'] is None and done['secret'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert done['invocation']['module_args']['name'] == 'jada-agent'
    failed = controller['fail']['done']
    assert failed['failed'] is True and failed['msg'] == 'no ********' and 'exception' not in failed
    assert controller['warn'] == {'needed': 'the module has a warning to report'}
    assert controller['deprecate'] == {'needed': 'the module has a deprecation to report'}
    assert controller['module_class_restored'] == 'AnsibleModule'


def test_python_warnings_stay_as_quiet_as_in_a_module_process(controller):
    assert controller['noisy']['changed'] is False
    assert 'a noisy library warning' not in controller['stderr']


def test_a_fault_in_the_controller_fails_without_the_secret(controller):
    assert controller['broken'] == 'lightsail_instance_info failed in the controller: ValueError: broken with ********'
