"""Drift is reported without change in report mode and fixed in remediate mode, with a JSON report."""

import json
import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-drift'
testinfra_hosts = ['podman://' + HOST]
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
DROPIN = jada_molecule.DROPIN_DIR + '/50-limits.conf'
SECRET = 'demo-secret-0000-not-a-real-key'


def drift_run(report_dir, mode):
    run = jada_molecule.run_playbook('playbooks/drift-remediation.yml', '-e', 'jada_agent_drift_mode=' + mode,
                                     '-e', 'jada_agent_drift_report_dir=%s' % report_dir)
    with open(os.path.join(report_dir, 'latest.json')) as handle:
        return run, json.load(handle)


@pytest.fixture(scope='module', name='host_under_test')
def fixture_host_under_test():
    return testinfra.get_host('podman://' + HOST)


@pytest.fixture(scope='module', name='converged')
def fixture_converged(host_under_test, tmp_path_factory):
    before = jada_molecule.state(host_under_test)
    run, report = drift_run(tmp_path_factory.mktemp('converged'), 'report')
    return {'before': before, 'after': jada_molecule.state(host_under_test), 'run': run, 'report': report}


@pytest.fixture(scope='module', name='drifted')
def fixture_drifted(host_under_test, converged, tmp_path_factory):  # pylint: disable=unused-argument
    jada_molecule.drift_model(host_under_test, REPOSITORY_SETTINGS, 'claude-haiku-4-5')
    host_under_test.check_output("sed -i 's/^LimitNOFILE=.*/LimitNOFILE=4096/' %s" % DROPIN)
    host_under_test.check_output('systemctl daemon-reload && systemctl stop jada-agent')
    before = jada_molecule.state(host_under_test)
    run, report = drift_run(tmp_path_factory.mktemp('report'), 'report')
    return {'before': before, 'after': jada_molecule.state(host_under_test), 'run': run, 'report': report}


@pytest.fixture(scope='module', name='remediated')
def fixture_remediated(drifted, tmp_path_factory):  # pylint: disable=unused-argument
    run, report = drift_run(tmp_path_factory.mktemp('remediate'), 'remediate')
    again, second_report = drift_run(tmp_path_factory.mktemp('again'), 'report')
    return {'run': run, 'report': report, 'again': again, 'second_report': second_report}


def test_a_converged_host_reports_no_drift_and_changes_nothing(converged):
    assert converged['run'].returncode == 0, converged['run'].stdout
    assert converged['report']['hosts'][HOST]['drift'] == []
    assert jada_molecule.recap(converged['run'].stdout, HOST)['changed'] == 0
    assert converged['after'] == converged['before']


def test_report_mode_lists_each_drift_with_expected_and_actual(drifted):
    drift = dict((item['check'], item) for item in drifted['report']['hosts'][HOST]['drift'])
    assert drift['model in ' + REPOSITORY_SETTINGS]['actual'] == 'claude-haiku-4-5'
    assert drift['model in ' + REPOSITORY_SETTINGS]['expected'] == 'claude-sonnet-4-6'
    assert drift['LimitNOFILE drop-in 50-limits.conf']['expected'] == 'LimitNOFILE=16384'
    assert drift['service jada-agent']['actual'].startswith('inactive')
    assert drifted['report']['hosts_with_drift'] == [HOST]


def test_report_mode_fails_the_run_and_changes_nothing(drifted):
    assert drifted['run'].returncode != 0
    assert 'drift remaining' in drifted['run'].stdout
    assert drifted['after'] == drifted['before']


def test_reports_never_hold_a_secret(drifted, remediated):
    for text in (drifted['run'].stdout, remediated['run'].stdout, json.dumps(drifted['report']),
                 json.dumps(remediated['report'])):
        assert SECRET not in text


def test_remediate_mode_fixes_every_drift(host_under_test, remediated):
    assert remediated['run'].returncode == 0, remediated['run'].stdout
    report = remediated['report']['hosts'][HOST]
    assert len(report['fixed']) == len(report['drift']) >= 3 and report['remaining'] == []
    assert jada_molecule.model(host_under_test, REPOSITORY_SETTINGS) == 'claude-sonnet-4-6'
    assert 'LimitNOFILE=16384' in host_under_test.file(DROPIN).content_string
    assert host_under_test.service('jada-agent').is_running
    assert jada_molecule.effective_nofile(host_under_test) == (16384, 16384)


def test_after_remediation_the_report_is_clean(remediated):
    assert remediated['again'].returncode == 0
    assert remediated['second_report']['hosts'][HOST]['drift'] == []


@pytest.fixture(scope='module', name='stale_agent')
def fixture_stale_agent(host_under_test, remediated, tmp_path_factory):  # pylint: disable=unused-argument
    """The files say Sonnet, but the running agent answers on Haiku: it was started while they said Haiku."""
    jada_molecule.drift_model(host_under_test, REPOSITORY_SETTINGS, 'claude-haiku-4-5')
    host_under_test.check_output('systemctl restart jada-agent')
    answered = jada_molecule.ask_agent(HOST, 'timeout=60')['answered_by']
    jada_molecule.drift_model(host_under_test, REPOSITORY_SETTINGS, 'claude-sonnet-4-6')
    run, report = drift_run(tmp_path_factory.mktemp('stale'), 'report')
    # Put the agent back on what its files say.
    host_under_test.check_output('systemctl restart jada-agent')
    restored = jada_molecule.ask_agent(HOST, 'timeout=60')['answered_by']
    return {'answered': answered, 'run': run, 'report': report, 'restored': restored}


def test_an_agent_answering_on_another_model_than_its_files_is_drift(stale_agent):
    assert stale_agent['answered'] == ['claude-haiku-4-5']
    drift = dict((item['check'], item) for item in stale_agent['report']['hosts'][HOST]['drift'])
    assert drift["the model of the agent's latest answer"] == {
        'check': "the model of the agent's latest answer", 'expected': 'claude-sonnet-4-6', 'actual': 'claude-haiku-4-5'}
    assert not [check for check in drift if check.startswith('model in ')]
    assert stale_agent['run'].returncode != 0
    assert stale_agent['restored'] == ['claude-sonnet-4-6']
