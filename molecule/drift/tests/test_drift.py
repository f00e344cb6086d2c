"""Drift is reported without change in report mode and fixed in remediate mode, with a JSON report. The side_effect
step (exercises.py) drifted the host, ran the checks and put the host back; these tests read what it recorded and
look at the host."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-drift'
testinfra_hosts = ['podman://' + HOST]
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
DROPIN = jada_molecule.DROPIN_DIR + '/50-limits.conf'
SECRET = 'demo-secret-0000-not-a-real-key'
FAIL_TASK = 'Write the drift report, show its summary, and fail when drift remains or a host failed'
LATEST_ANSWER = "the model of the agent's latest answer"


def drift_of(run):
    return dict((item['check'], item) for item in run['report']['hosts'][HOST]['drift'])


def failed_tasks(run, name):
    return [failure['task'] for failure in run['failures'][name]]


def test_a_converged_host_reports_no_drift_and_changes_nothing():
    record = jada_molecule.results('drift_check_on_a_converged_host')
    run = record['run']
    assert run['rc'] == 0, run['failures']
    assert run['report']['hosts'][HOST]['drift'] == [] and run['report']['hosts_with_drift'] == []
    assert run['stats'][HOST]['changed'] == 0
    assert record['after'] == record['before']


def test_report_mode_lists_each_drift_with_expected_and_actual():
    run = jada_molecule.results('drift_report_on_a_drifted_host')['run']
    drift = drift_of(run)
    assert drift['model in ' + REPOSITORY_SETTINGS]['actual'] == 'claude-haiku-4-5'
    assert drift['model in ' + REPOSITORY_SETTINGS]['expected'] == 'claude-sonnet-4-6'
    assert drift['LimitNOFILE drop-in 50-limits.conf']['expected'] == 'LimitNOFILE=16384'
    assert drift['service jada-agent']['actual'].startswith('inactive')
    assert run['report']['hosts_with_drift'] == [HOST]


def test_report_mode_fails_the_run_and_changes_nothing():
    record = jada_molecule.results('drift_report_on_a_drifted_host')
    run = record['run']
    # The run fails on the drift it found, at the end, and on nothing else; the host's play only read.
    assert run['rc'] != 0
    assert failed_tasks(run, HOST) == [FAIL_TASK]
    assert run['report']['hosts_failed'] == [] and run['report']['hosts'][HOST]['remaining']
    assert run['stats'][HOST]['changed'] == 0
    assert record['after'] == record['before']


def test_reports_never_hold_a_secret():
    drifted = jada_molecule.results('drift_report_on_a_drifted_host')['run']
    remediated = jada_molecule.results('drift_remediation_on_a_drifted_host')['run']
    for run in (drifted, remediated):
        for text in (json.dumps(run['output']), run['stderr'], json.dumps(run['report'])):
            assert SECRET not in text


def test_remediate_mode_fixes_every_drift():
    record = jada_molecule.results('drift_remediation_on_a_drifted_host')
    run = record['run']
    assert run['rc'] == 0, run['failures']
    report = run['report']['hosts'][HOST]
    assert len(report['fixed']) == len(report['drift']) >= 3 and report['remaining'] == []
    assert {'model in ' + REPOSITORY_SETTINGS, 'LimitNOFILE drop-in 50-limits.conf',
            'service jada-agent'} <= set(drift_of(run))
    fixed = record['fixed']
    assert fixed['model'] == 'claude-sonnet-4-6'
    assert 'LimitNOFILE=16384' in fixed['dropin']
    assert fixed['running']
    assert fixed['nofile'] == [16384, 16384]


def test_after_remediation_the_report_is_clean():
    again = jada_molecule.results('drift_remediation_on_a_drifted_host')['again']
    assert again['rc'] == 0, again['failures']
    assert again['report']['hosts'][HOST]['drift'] == []


def test_an_agent_answering_on_another_model_than_its_files_is_drift():
    record = jada_molecule.results('drift_check_of_a_stale_agent')
    run = record['run']
    assert record['answered'] == ['claude-haiku-4-5']
    drift = drift_of(run)
    assert drift[LATEST_ANSWER] == {'check': LATEST_ANSWER, 'expected': 'claude-sonnet-4-6', 'actual': 'claude-haiku-4-5'}
    assert not [check for check in drift if check.startswith('model in ')]
    assert run['rc'] != 0 and failed_tasks(run, HOST) == [FAIL_TASK]
    # Report mode: the stale agent is reported, not restarted.
    assert record['after'] == record['before'] and run['stats'][HOST]['changed'] == 0
    assert record['restored'] == ['claude-sonnet-4-6']


def test_the_report_lists_the_host_it_could_not_reach_and_checks_the_others():
    record = jada_molecule.results('drift_check_with_a_host_it_cannot_reach')
    run = record['run']
    gone = 'jada-molecule-drift-gone'
    assert run['rc'] != 0
    # Its unreachable read is ignored so that the host stays in the play: the report names why it was not checked.
    assert run['stats'][gone]['ignored'] == 1 and run['stats'][gone]['unreachable'] == 0
    assert run['report']['hosts_failed'] == [gone]
    assert run['report']['hosts'][gone]['failed'].startswith(gone + ': not checked (unreachable')
    assert run['report']['hosts'][HOST]['failed'] is None and run['report']['hosts'][HOST]['drift'] == []
    assert 'FAILED  %s: not checked' % gone in '\n'.join(run['report']['summary_lines'])
    assert record['after'] == record['before']


def test_a_host_lost_during_the_fix_is_reported_failed_not_with_drift_remaining():
    record = jada_molecule.results('drift_remediation_that_loses_a_host')
    run = record['run']
    lost = 'jada-molecule-drift-lost'
    # The same drifted container under two names: read under both, then LOST unreachable at its first task of the fix.
    assert record['lost_after_read'] and run['stats'][lost]['unreachable'] == 1
    assert run['rc'] != 0
    assert run['report']['hosts_failed'] == [lost] and run['report']['hosts_with_drift'] == []
    entry = run['report']['hosts'][lost]
    assert entry['failed'].startswith(lost + ': lost after its read') and entry['fixed'] == []
    assert entry['drift'] == entry['remaining'] == run['report']['hosts'][HOST]['drift']
    fixed = run['report']['hosts'][HOST]
    assert fixed['failed'] is None and fixed['remaining'] == [] and len(fixed['fixed']) == len(fixed['drift']) >= 3


def test_a_limited_run_reports_the_hosts_it_was_limited_to():
    record = jada_molecule.results('drift_check_with_a_host_it_cannot_reach')
    limited = record['limited']
    assert limited['rc'] == 0, limited['failures']
    assert sorted(limited['report']['hosts']) == [HOST] and limited['report']['hosts_failed'] == []
    # Limited to the lost host alone, no reachable host is left in the play: the report is still written, and fails.
    only_gone = record['only_gone']
    gone = 'jada-molecule-drift-gone'
    assert only_gone['rc'] != 0
    assert sorted(only_gone['report']['hosts']) == [gone] and only_gone['report']['hosts_failed'] == [gone]
    assert failed_tasks(only_gone, gone) == [FAIL_TASK]


def test_a_report_asks_no_instance_and_a_fix_asks_before_it_touches_the_host():
    record = jada_molecule.results('drift_runs_on_a_stopped_lightsail_instance')
    # The report reads the host only: its Lightsail instance is not asked about.
    assert record['report']['report']['hosts_with_drift'] == [HOST] and record['report_requests'] == []
    # The fix asks once, finds the instance stopped, and names it in the report, which fails the run.
    assert [request['operation'] for request in record['fix_requests']] == ['GetInstances']
    assert record['violations'] == []
    fix = record['fix']
    assert fix['rc'] != 0 and fix['stats'][HOST]['changed'] == 0
    assert fix['report']['hosts_failed'] == [HOST] and fix['report']['hosts'][HOST]['fixed'] == []
    assert 'jada-agent-drift' in fix['report']['hosts'][HOST]['failed']
    assert 'stopped' in fix['report']['hosts'][HOST]['failed']
    assert record['after'] == record['before']


def test_the_host_is_as_the_converge_left_it(host):
    # Every file the exercises drifted is back byte for byte, and the agent runs on it with its limit.
    converged = jada_molecule.results('drift_check_on_a_converged_host')['before']
    assert jada_molecule.state(host)['digests'] == converged['digests']
    assert jada_molecule.model(host, REPOSITORY_SETTINGS) == 'claude-sonnet-4-6'
    assert host.service('jada-agent').is_running
    assert jada_molecule.effective_nofile(host) == (16384, 16384)
