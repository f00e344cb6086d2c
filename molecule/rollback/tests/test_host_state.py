"""Bad host state is refused before any host is touched: a finding on the last host in inventory order stops the
rollout before the canary (the first host) changes. jada_agent_repair converges a failed agent anyway, and when
that fails, puts its files back without restarting it. The side_effect step (exercises.py) ran the rollouts."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

FIRST, LAST = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'
testinfra_hosts = ['podman://' + FIRST, 'podman://' + LAST]
# The read refuses, on the controller, what its plan refuses (the action plugin of agent_host_info).
REFUSAL = ('Read and plan the orchestrator', 'plan')
STOP_TASK = 'Stop when a host was refused'
# What each finding is called, and which hosts have it.
FINDINGS = {
    'a // comment in a settings file': ('/srv/jada/orchestrator/.claude/settings.json', [LAST]),
    'a missing service user': ('the service user ghost does not exist on this host', [FIRST, LAST]),
    'a settings path that is a directory': (
        'settings file /srv/jada/orchestrator/.claude/settings.local.json cannot be used: '
        '/srv/jada/orchestrator/.claude/settings.local.json: cannot be read: Is a directory', [LAST]),
    'an agent that is failed': ('the agent jada-agent has failed (failed/failed) before any change', [LAST]),
    'an agent that is crash loop': ('the agent jada-agent is restarting in a loop', [LAST]),
}


@pytest.fixture(scope='module', name='refused')
def fixture_refused():
    return jada_molecule.results('bad_host_state')


@pytest.mark.parametrize('case', sorted(FINDINGS))
def test_the_finding_is_named_for_each_host_that_has_it(refused, case):
    run = refused[case]
    said, where = FINDINGS[case]
    assert run['rc'] != 0
    for name in (FIRST, LAST):
        failures = run['failures'][name]
        if name not in where:
            # Stopped for the other host's finding, naming it.
            assert [failure['task'] for failure in failures] == [STOP_TASK]
            assert failures[0]['msg'] == 'Refused: %s (see above). Nothing was changed on any host.' % ', '.join(where)
            continue
        assert [(failure['task'], failure.get('refused')) for failure in failures] == [REFUSAL]
        assert failures[0]['msg'].startswith(name + ': ') and said in failures[0]['msg'], failures[0]['msg']
        assert failures[0]['msg'].endswith('Nothing was changed on any host.')


@pytest.mark.parametrize('case', sorted(FINDINGS))
def test_no_host_was_touched(refused, case):
    run = refused[case]
    assert run['after'][FIRST] == run['before'][FIRST]
    assert run['after'][LAST]['digests'] == run['before'][LAST]['digests']
    # A crash-looping agent changes its PID by itself; any other must keep its process.
    if case != 'an agent that is crash loop':
        assert run['after'][LAST]['service'] == run['before'][LAST]['service']


def test_a_missing_user_leaves_no_directory_named_after_it(refused):
    assert refused['a missing service user']['leftovers'] == {FIRST: [], LAST: []}


def test_a_failed_agent_is_converged_with_repair_and_put_back_without_a_restart():
    record = jada_molecule.results('a_failed_agent_repaired')
    assert record['rc'] != 0
    assert [warning for warning in record['warnings'] if warning.startswith(
        'the agent jada-agent has failed (failed/failed) before any change; converging it anyway (jada_agent_repair)')]
    assert record['after'][FIRST] == record['before'][FIRST]
    assert record['after'][LAST]['digests'] == record['before'][LAST]['digests']
    assert 'Put the previous configuration back' in record['ran']
    assert 'Reload the previous unit without restarting the agent' in record['ran']
    assert 'Restart on the previous configuration and verify it' not in record['ran']
    assert record['failures'][-1]['task'] == 'Stop here'
    assert ('it was not healthy before the rollout (failed/failed), so it was not restarted.'
            in ' '.join(record['failures'][-1]['msg'].split())), record['failures'][-1]['msg']
    assert record['active'] in ('inactive', 'failed')
