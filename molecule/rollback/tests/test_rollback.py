"""Rollouts that fail the way real upgrades fail, against the real Claude Code CLI.

The CLI starts on any model; the failure comes at its first request. So the canary fails only through the
smoke task of the verification: the API refuses the new model (404 not_found_error), or accepts it and answers
every request with 529 overloaded_error. Each time the canary must end on its previous files byte for byte,
restarted and answering tasks on its previous model, and the second host must not have been touched.
"""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

CANARY, SECOND = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'
OLD, NEW = 'claude-haiku-4-5', 'claude-sonnet-4-6'
FAILURES = {
    'not-found': {'error': 'not_found_error', 'status': 404},
    'overloaded': {'error': 'overloaded_error', 'status': 529},
}


@pytest.fixture(scope='module', name='hosts')
def fixture_hosts():
    return dict((name, testinfra.get_host('podman://' + name)) for name in (CANARY, SECOND))


@pytest.fixture(scope='module', name='rollouts')
def fixture_rollouts(hosts):
    """Both failed rollouts, one after the other; each records the hosts before and after."""
    rollouts = {}
    for case in ('not-found', 'overloaded'):
        for host in hosts.values():
            jada_molecule.script_api(host, {'models': {NEW: {'error': FAILURES[case]['error']}}})
        before = dict((name, jada_molecule.state(host)) for name, host in hosts.items())
        requests = dict((name, len(jada_molecule.api_requests(host))) for name, host in hosts.items())
        starts = dict((name, jada_molecule.service_starts(host)) for name, host in hosts.items())
        run = jada_molecule.run_playbook('upgrade-model.yml')
        rollouts[case] = {
            'before': before, 'run': run, 'starts': starts,
            'requests': dict((name, jada_molecule.api_requests(host)[requests[name]:]) for name, host in hosts.items()),
            'after': dict((name, jada_molecule.state(host)) for name, host in hosts.items()),
        }
    for host in hosts.values():
        jada_molecule.script_api(host, {})
    return rollouts


@pytest.mark.parametrize('case', sorted(FAILURES))
def test_the_rollout_fails_and_says_why(rollouts, case):
    run = rollouts[case]['run']
    assert run.returncode != 0
    assert jada_molecule.recap(run.stdout, CANARY)['failed'] == 1
    assert 'restored byte for byte' in run.stdout and 'healthy again' in run.stdout
    assert 'The rollout stops here' in run.stdout


def test_a_refused_model_is_named_with_the_api_status(rollouts):
    stdout = rollouts['not-found']['run'].stdout
    assert '404' in stdout and 'not_found_error' in stdout and NEW in stdout


def test_an_overloaded_api_is_named(rollouts):
    stdout = rollouts['overloaded']['run'].stdout
    assert 'no result for the task within 20 s' in stdout and 'overloaded (529)' in stdout


@pytest.mark.parametrize('case', sorted(FAILURES))
def test_the_canary_asked_for_the_new_model_and_was_refused(rollouts, case):
    asked = rollouts[case]['requests'][CANARY]
    refused = [request for request in asked if request['model'] == NEW]
    assert refused and all(request['status'] == FAILURES[case]['status'] for request in refused)


@pytest.mark.parametrize('case', sorted(FAILURES))
def test_the_canary_is_back_on_its_previous_files_byte_for_byte(rollouts, case):
    assert rollouts[case]['after'][CANARY]['digests'] == rollouts[case]['before'][CANARY]['digests']


@pytest.mark.parametrize('case', sorted(FAILURES))
def test_the_canary_was_restarted_on_the_previous_model_and_answered_on_it(rollouts, case):
    asked = rollouts[case]['requests'][CANARY]
    # The last request of the rollout is the verification of the rollback: answered, on the old model.
    assert asked[-1]['model'] == OLD and asked[-1]['status'] == 200
    assert NEW in [request['model'] for request in asked]


def test_the_canary_runs_its_previous_cli_again(hosts, rollouts):  # pylint: disable=unused-argument
    previous = '/opt/jada/lib/claude-code/%s-linux-x64/claude' % os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION']
    for name, host in hosts.items():
        assert host.file(jada_molecule.CLI).linked_to == previous, name
    exe = hosts[CANARY].check_output(jada_molecule.RUNNING_EXE)
    assert exe == previous


def test_the_canary_answers_tasks_on_the_previous_model_now(hosts, rollouts):  # pylint: disable=unused-argument
    answer = jada_molecule.ask_agent(CANARY, 'timeout=60')
    assert answer['is_error'] is False and answer['answered_by'] == [OLD], answer
    assert hosts[CANARY].service('jada-agent').is_running


@pytest.mark.parametrize('case', sorted(FAILURES))
def test_the_second_host_was_never_touched(rollouts, case):
    assert rollouts[case]['after'][SECOND] == rollouts[case]['before'][SECOND]
    assert rollouts[case]['requests'][SECOND] == []
