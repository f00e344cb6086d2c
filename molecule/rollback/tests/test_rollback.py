"""Rollouts that fail the way real upgrades fail, against the real Claude Code CLI.

The CLI starts on any model; the failure comes at its first request. So the canary fails only through the
smoke task of the verification: the API refuses the new model (404 not_found_error), or accepts it and answers
every request with 529 overloaded_error. Each time the canary must end on its previous files byte for byte,
restarted and answering tasks on its previous model, and the second host must not have been touched. The canary
is the first host in inventory order (not-found), or the one jada_agent_canary names (overloaded).
The side_effect step (exercises.py) ran the rollouts; these tests read what it recorded and look at the hosts.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

FIRST, LAST = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'
testinfra_hosts = ['podman://' + FIRST, 'podman://' + LAST]
CANARY = {'not-found': FIRST, 'overloaded': LAST}
SECOND = {'not-found': LAST, 'overloaded': FIRST}
OLD, NEW = 'claude-haiku-4-5', 'claude-sonnet-4-6'
STATUS = {'not-found': 404, 'overloaded': 529}


@pytest.fixture(scope='module', name='rollouts')
def fixture_rollouts():
    return jada_molecule.results('failed_rollouts')


@pytest.mark.parametrize('case', sorted(STATUS))
def test_the_rollout_fails_is_rolled_back_and_stops(rollouts, case):
    rollout = rollouts[case]
    verdict, rollback = rollout['verifications']
    assert rollout['rc'] != 0
    assert verdict['healthy'] is False and rollback['healthy'] is True
    assert [failure['task'] for failure in rollout['failures']][-1] == 'Stop here'
    assert 'The rollout stops here. Not reached, so not touched: %s.' % SECOND[case] in rollout['failures'][-1]['msg']


def test_a_refused_model_is_named_with_the_api_status(rollouts):
    smoke = rollouts['not-found']['verifications'][0]['smoke']
    assert (smoke['is_error'], smoke['api_error_status'], smoke['api_error_type']) == (True, 404, 'not_found_error')


def test_an_overloaded_api_is_named(rollouts):
    smoke = rollouts['overloaded']['verifications'][0]['smoke']
    assert smoke['timed_out'] is True and smoke['retries']['error_status'] == 529


@pytest.mark.parametrize('case', sorted(STATUS))
def test_the_canary_asked_for_the_new_model_and_was_refused(rollouts, case):
    asked = rollouts[case]['requests'][CANARY[case]]
    refused = [request for request in asked if request['model'] == NEW]
    assert refused and all(request['status'] == STATUS[case] for request in refused)


@pytest.mark.parametrize('case', sorted(STATUS))
def test_the_canary_is_back_on_its_previous_files_byte_for_byte(rollouts, case):
    assert rollouts[case]['after'][CANARY[case]]['digests'] == rollouts[case]['before'][CANARY[case]]['digests']


def test_the_rollback_removes_the_environment_file_the_rollout_created(rollouts):
    rollout = rollouts['not-found']
    assert [result['changed'] for result in rollout['environment_installed']] == [True]
    # Absent before the run, created by it, absent after its rollback.
    assert rollout['environment_file'] == [False, False]


@pytest.mark.parametrize('case', sorted(STATUS))
def test_the_canary_was_restarted_on_the_previous_model_and_answered_on_it(rollouts, case):
    asked = rollouts[case]['requests'][CANARY[case]]
    # The last request of the rollout is the verification of the rollback: answered, on the old model.
    assert asked[-1]['model'] == OLD and asked[-1]['status'] == 200
    assert rollouts[case]['verifications'][1]['smoke']['answered_by'] == [OLD]


def test_the_canary_runs_its_previous_cli_again(host):
    previous = '/opt/jada/lib/claude-code/%s-linux-x64/claude' % os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION']
    # Each host was the canary of one rollout.
    assert host.file(jada_molecule.CLI).linked_to == previous
    assert host.check_output(jada_molecule.RUNNING_EXE) == previous


@pytest.mark.parametrize('name', [FIRST, LAST])
def test_each_canary_answers_tasks_on_the_previous_model_now(name):
    record = jada_molecule.results('tasks_for_the_canaries_after_the_rollbacks')[name]
    assert record['answer']['is_error'] is False and record['answer']['answered_by'] == [OLD], record['answer']
    assert record['running']


@pytest.mark.parametrize('case', sorted(STATUS))
def test_the_second_host_was_never_touched(rollouts, case):
    assert rollouts[case]['after'][SECOND[case]] == rollouts[case]['before'][SECOND[case]]
    assert rollouts[case]['requests'][SECOND[case]] == []
    assert not [result for result in rollouts[case]['second_results'] if result.get('changed')]


BAD_INPUT = {
    'empty model': 'jada_agent_model is "": give the model ID',
    'unquoted model with a blank': 'jada_agent_model is "claude", which Claude Code',
    '300-character model': 'jada_agent_model is 300 characters long',
    'negative settle time': 'jada_agent_settle_seconds is "-5": give the seconds',
    'serial 0': 'jada_agent_serial is "0", and "0" is no batch',
    'unknown canary': 'jada_agent_canary is "jada-agent-9", which is not a host of this run',
}


@pytest.mark.parametrize('case', sorted(BAD_INPUT))
def test_bad_input_is_refused_before_any_host_is_read(case):
    run = jada_molecule.results('bad_input')[case]
    assert run['rc'] != 0
    assert run['reads'] == 0
    assert run['after'] == run['before']
    for name in (FIRST, LAST):
        assert [(failure['task'], failure['refused']) for failure in run['failures'][name]] == [
            ('Read and plan the orchestrator', 'input')]
        message = run['failures'][name][0]['msg']
        assert message.startswith(name + ': ' + BAD_INPUT[case]) and message.endswith('Nothing was read or changed.')
