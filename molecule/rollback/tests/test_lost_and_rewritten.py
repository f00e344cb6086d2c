"""A host lost in the middle of a rollout, and a settings file rewritten right after the rollout wrote it.

The side_effect step (exercises.py) ran both and put the hosts back; these tests read what it recorded."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

FIRST, SECOND, LOST = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2', 'jada-molecule-rollback-lost'
OLD = 'claude-haiku-4-5'
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'


def test_a_lost_host_stops_the_rollout_before_the_next_batch_and_is_named():
    lost = jada_molecule.results('a_host_lost_mid_rollout')
    assert lost['rc'] != 0
    assert lost['stats'][LOST]['unreachable'] == 1
    assert [result['task'] for result in lost['second_failures']] == ['Stop when a host of an earlier batch was lost']
    message = lost['second_failures'][0]['msg']
    assert message.startswith(LOST + ' became unreachable during its rollout')
    assert message.endswith('Not reached, so not touched: %s.' % SECOND)


def test_the_lost_host_changed_nothing_and_the_next_batch_was_not_touched():
    lost = jada_molecule.results('a_host_lost_mid_rollout')
    assert not [result['task'] for result in lost['lost_results'] if result.get('changed')]
    assert not [result['task'] for result in lost['second_results'] if result.get('changed')]
    assert lost['after'][SECOND] == lost['before'][SECOND]


def test_the_other_host_of_the_lost_hosts_batch_finished_its_rollout_and_was_rolled_back_by_hand():
    lost = jada_molecule.results('a_host_lost_mid_rollout')
    assert lost['upgraded'][FIRST]['digests'] != lost['before'][FIRST]['digests']
    assert lost['rollback_rc'] == 0
    assert lost['after'][FIRST]['digests'] == lost['before'][FIRST]['digests']


@pytest.mark.parametrize('point', ('after the write', 'after the restart'))
def test_a_rewrite_during_the_rollout_never_ends_rc_0(point):
    rewrite = jada_molecule.results('rewrites_during_the_rollout')[point]
    assert rewrite['rewritten'] == 1
    assert rewrite['rc'] != 0
    assert rewrite['failures'], 'the run failed without a failed task for %s' % FIRST
    # Named: the verification saw the agent answer on the old model, or the closing read saw it in the file.
    assert OLD in rewrite['failures'][-1]['msg']
    # Nothing claimed the new model for the host: the closing report was never shown.
    assert rewrite['shown'] == []


def test_the_rewrite_after_the_restart_is_caught_by_the_closing_read():
    rewrite = jada_molecule.results('rewrites_during_the_rollout')['after the restart']
    assert rewrite['failures'][-1]['task'] == 'Fail unless the host is now as the rollout was to leave it'
    assert REPOSITORY_SETTINGS in rewrite['failures'][-1]['msg']


@pytest.mark.parametrize('point', ('after the write', 'after the restart'))
def test_the_host_ends_on_its_files_from_before_the_rewrite_run(point):
    rewrite = jada_molecule.results('rewrites_during_the_rollout')[point]
    assert rewrite.get('rollback_rc', 0) == 0
    assert rewrite['after'][FIRST]['digests'] == rewrite['before'][FIRST]['digests']
