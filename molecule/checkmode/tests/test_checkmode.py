"""--check reports without changing: nothing on a converged host, the drift on a drifted one; and every refusal
happens before any change. The side_effect step (exercises.py) ran the cases; these tests only read what it
recorded and look at the host."""

import json
import os
import re
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-checkmode'
testinfra_hosts = ['podman://' + HOST]
SECRET = 'demo-secret-0000-not-a-real-key'
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
USER_SETTINGS = '/home/jada/.claude/settings.json'
LOCAL_SETTINGS = '/srv/jada/orchestrator/.claude/settings.local.json'
PINNED_CLI = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                              'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']
# The read refuses, on the controller, what its plan refuses (the action plugin of agent_host_info).
REFUSAL = ('Read and plan the orchestrator', 'plan')


def test_check_mode_on_a_converged_host_changes_nothing():
    record = jada_molecule.results('check_mode_on_a_converged_host')
    assert record['run']['rc'] == 0, record['run']['stdout']
    assert jada_molecule.recap(record['run']['stdout'], HOST)['changed'] == 0
    assert record['after'] == record['before']


def test_check_mode_reports_drift_and_changes_nothing():
    record = jada_molecule.results('check_mode_on_a_drifted_host')
    run = record['run']
    assert run['rc'] == 0, run['stdout'] + run['stderr']
    assert jada_molecule.recap(run['stdout'], HOST)['changed'] >= 1
    # The diff shows the model and nothing else of the file.
    assert '-model: "claude-haiku-4-5"' in run['stdout'] and '+model: "claude-sonnet-4-6"' in run['stdout']
    assert SECRET not in run['stdout'] + run['stderr']
    assert record['after'] == record['before'] and record['drifted_model'] == 'claude-haiku-4-5'


def test_status_shows_the_fleet_table_without_changing_anything():
    record = jada_molecule.results('status')
    run = record['run']
    assert run['rc'] == 0, run['stdout'] + run['stderr']
    assert jada_molecule.recap(run['stdout'], HOST)['changed'] == 0
    row = [line for line in run['stdout'].splitlines() if line.strip().startswith(HOST)][0].split()
    assert 'active/running' in row and str(PINNED_CLI) in row
    # The model of the agent's own latest answer (the smoke task after the upgrade), the limit it runs with, and the
    # converge's rollout, which finished.
    assert row[-4:-2] == ['claude-sonnet-4-6', '16384']
    assert re.match(r'^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$', row[-2]) and row[-1] == '(complete)', row
    assert SECRET not in run['stdout']
    assert record['after'] == record['before']


# Each refusal: the read of the host happened, the plan refused, the run failed at the refusal and nothing moved.
@pytest.mark.parametrize('name, source, model', [
    ('a_contradicting_managed_setting', '/etc/claude-code/managed-settings.json', 'claude-haiku-4-5'),
    ('a_model_flag_in_exec_start', '--model in ExecStart of jada-agent', 'claude-haiku-4-5'),
    ('a_model_variable_in_the_environment', 'ANTHROPIC_MODEL in /etc/jada/jada-agent.env (EnvironmentFile of jada-agent)',
     'claude-haiku-4-5'),
    ('an_env_block_that_would_still_win', 'ANTHROPIC_MODEL in the env block of %s' % USER_SETTINGS, 'claude-haiku-4-5'),
])
def test_what_would_still_win_is_refused_before_any_change(name, source, model):
    record = jada_molecule.results(name)
    planned = record['read']['planned_model']
    assert record['rc'] != 0
    assert (planned['source'], planned['model'], planned['from_settings_files']) == (source, model, False)
    assert record['read']['plan']['refusals']
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']
    assert SECRET not in json.dumps(record)


def test_a_model_outside_the_allowed_list_is_refused_before_any_change():
    record = jada_molecule.results('a_model_outside_the_allowed_list')
    assert record['rc'] != 0
    assert record['read']['plan']['model'] == 'claude-opus-4-6'
    assert any('jada_agent_allowed_models' in refusal for refusal in record['read']['plan']['refusals'])
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']


def test_a_settings_file_the_cli_would_skip_is_refused_before_any_change():
    record = jada_molecule.results('a_settings_file_the_cli_would_skip')
    skipped = record['read']['effective_model']['skipped']
    assert record['rc'] != 0
    assert [entry['path'] for entry in skipped] == [LOCAL_SETTINGS]
    assert 'line 2, column 29' in skipped[0]['reason']
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']


def test_available_models_that_exclude_the_model_are_refused_before_any_change():
    record = jada_molecule.results('available_models_that_exclude_the_model')
    planned = record['read']['planned_model']
    assert record['rc'] != 0
    assert 'available-models' in [warning['kind'] for warning in planned['warnings']]
    assert planned['model'] != 'claude-opus-4-6'
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']


def test_an_alias_is_resolved_warned_about_and_checked_against_the_allowed_list():
    record = jada_molecule.results('an_alias')
    check = record['check']
    # Which ID the alias requests is the CLI's business (the conformance suite asks it); here: that it is one,
    # that the run says so, and that the allowed list is applied to it.
    resolved = check['read']['planned_model']['model']
    assert check['rc'] == 0 and resolved.startswith('claude-sonnet-') and resolved != 'sonnet'
    assert check['read']['plan']['warnings'] and 'sonnet' in check['read']['plan']['warnings'][0]
    assert record['rc'] != 0 and record['read']['planned_model']['model'] == resolved
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']


def test_the_host_is_as_the_converge_left_it(host):
    assert jada_molecule.model(host, REPOSITORY_SETTINGS) == 'claude-sonnet-4-6'
    assert not host.file(LOCAL_SETTINGS).exists and not host.file('/etc/claude-code').exists
    assert host.service('jada-agent').is_running
