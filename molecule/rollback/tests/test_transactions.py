"""Rollouts are transactions on the host. ansible-playbook killed (-9) at three points of the canary's rollout,
then run again with the new model refused by the API: the rerun says the earlier rollout did not finish, puts its
snapshot back first, and its own rollback then ends on the files from before the killed run, byte for byte; the
second host is never touched. playbooks/rollback.yml puts a successful rollout back by hand. The side_effect step
(exercises.py) ran them."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

CANARY, SECOND = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'
testinfra_hosts = ['podman://' + CANARY, 'podman://' + SECOND]
OLD, NEW = 'claude-haiku-4-5', 'claude-sonnet-4-6'
POINTS = ('after the snapshot', 'after the settings writes', 'after the restart')


@pytest.fixture(scope='module', name='killed')
def fixture_killed():
    return jada_molecule.results('killed_rollouts')


@pytest.mark.parametrize('point', POINTS)
def test_the_run_was_killed_on_the_way(killed, point):
    assert killed[point]['killed'] is True


@pytest.mark.parametrize('point', POINTS)
def test_the_rerun_names_the_unfinished_rollout_and_puts_it_back_first(killed, point):
    record = killed[point]
    assert record['unfinished'], record
    assert [warning for warning in record['warnings']
            if warning.startswith('rollout %s did not finish on this host' % record['unfinished'])]
    ran = record['ran']
    assert ran.index('Put back the snapshot of the unfinished rollout') < ran.index(
        'Keep the current configuration for a rollback')
    assert record['phases'][record['unfinished']] == 'rolled-back'


@pytest.mark.parametrize('point', POINTS)
def test_the_canary_ends_on_the_files_from_before_the_killed_run(killed, point):
    record = killed[point]
    assert record['rc'] != 0 and record['failures'][-1]['task'] == 'Stop here'
    assert record['after'][CANARY]['digests'] == record['before'][CANARY]['digests']
    # No rollout is left unfinished: the rerun's own snapshot is marked rolled back too.
    assert 'started' not in record['phases'].values(), record['phases']


@pytest.mark.parametrize('point', POINTS)
def test_the_second_host_was_never_touched(killed, point):
    record = killed[point]
    assert record['after'][SECOND] == record['before'][SECOND]
    assert record['second_changed'] == []


@pytest.fixture(scope='module', name='manual')
def fixture_manual():
    return jada_molecule.results('a_rollout_then_a_manual_rollback')


def test_the_rollout_before_the_manual_rollback_succeeded(manual):
    assert manual['rollout_rc'] == 0
    assert re.match(r'^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$', manual['id']), manual['id']
    assert manual['upgraded'][CANARY]['digests'] != manual['before'][CANARY]['digests']
    assert manual['answer_upgraded']['answered_by'] == [NEW], manual['answer_upgraded']


def test_rollback_yml_puts_that_rollout_back_byte_for_byte_and_restarts_on_it(manual):
    assert manual['rollback_rc'] == 0, manual['rollback_failures']
    assert manual['restored'] == [manual['id']]
    assert manual['after'][CANARY]['digests'] == manual['before'][CANARY]['digests']
    assert manual['after'][CANARY]['service'] != manual['upgraded'][CANARY]['service']
    assert manual['answer_after']['is_error'] is False and manual['answer_after']['answered_by'] == [OLD]
    assert manual['phase'] == 'rolled-back'


def test_rollback_yml_left_the_other_host_alone(manual):
    assert manual['after'][SECOND] == manual['before'][SECOND]


@pytest.fixture(scope='module', name='finished')
def fixture_finished():
    return jada_molecule.results('a_killed_rollout_finished')


def test_told_to_finish_the_rerun_converges_and_abandons_the_killed_rollout(finished):
    assert finished['killed'] is True and len(finished['killed_ids']) == 1
    killed_id = finished['killed_ids'][0]
    assert finished['unfinished'] == killed_id
    assert finished['rc'] == 0
    assert 'Put back the snapshot of the unfinished rollout' not in finished['finished']['ran']
    assert finished['finished']['phases'][killed_id] == 'abandoned'
    assert 'started' not in finished['finished']['phases'].values()
    assert finished['finished']['answer']['answered_by'] == [NEW], finished['finished']['answer']


def test_the_abandoned_rollout_can_still_be_rolled_back_by_its_id(finished):
    assert finished['rollback_rc'] == 0, finished['rollback_failures']
    assert finished['after'][CANARY]['digests'] == finished['before'][CANARY]['digests']
    assert finished['answer_after']['answered_by'] == [OLD], finished['answer_after']
