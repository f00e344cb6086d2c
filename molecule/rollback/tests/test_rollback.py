"""A rollout whose new model crashes the agent: the canary is rolled back and the rollout stops."""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

CANARY, SECOND = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'


@pytest.fixture(scope='module', name='rollout')
def fixture_rollout():
    hosts = dict((name, testinfra.get_host('podman://' + name)) for name in (CANARY, SECOND))
    before = dict((name, jada_molecule.state(host)) for name, host in hosts.items())
    run = jada_molecule.run_playbook('upgrade-model.yml')
    return {'hosts': hosts, 'before': before, 'run': run}


def test_the_rollout_fails_and_says_why(rollout):
    run = rollout['run']
    assert run.returncode != 0
    assert 'model claude-sonnet-4-6 failed its first request' in run.stdout
    assert 'restored byte for byte' in run.stdout and 'healthy again' in run.stdout
    assert 'The rollout stops here' in run.stdout


def test_the_canary_is_back_on_its_previous_files_byte_for_byte(rollout):
    canary = rollout['hosts'][CANARY]
    assert jada_molecule.state(canary)['digests'] == rollout['before'][CANARY]['digests']
    for path in jada_molecule.SETTINGS_FILES:
        assert jada_molecule.model(canary, path) == 'claude-haiku-4-5'


def test_the_canary_runs_the_previous_model_again(rollout):
    canary = rollout['hosts'][CANARY]
    assert canary.service('jada-agent').is_running
    starts = [line for line in canary.check_output('journalctl -u jada-agent -o cat --no-pager').splitlines()
              if 'starting orchestrator' in line]
    assert 'model=claude-sonnet-4-6' in ''.join(starts)
    assert 'model=claude-haiku-4-5' in starts[-1]
    health = canary.check_output('sleep 2; systemctl show -p ActiveState,SubState jada-agent')
    assert 'ActiveState=active' in health and 'SubState=running' in health


def test_the_second_host_was_never_touched(rollout):
    second = rollout['hosts'][SECOND]
    assert jada_molecule.state(second) == rollout['before'][SECOND]
    assert not second.file('/var/lib/jada-agent/snapshot').exists
