"""audit_models.yml against real files in the container and SSM/Lambda in moto_server. The side_effect step
(exercises.py) seeded the sources, ran the audits and removed what it seeded; these tests read what it recorded."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-drift'
testinfra_hosts = ['podman://' + HOST]
SECRETS = ('sk-planner-secret', 'tok-123', 'audit-secret-do-not-print')
AUDITS = ('an_audit_report', 'an_audit_that_fixes', 'an_audit_that_fixes_lambda_too', 'an_audit_under_a_limit')


def rows_by_agent(report):
    return dict(((row['agent'], row['source_type']), row) for row in report['rows'])


def succeeded(run):
    assert run['rc'] == 0, run['failures'] or run['stderr']
    assert run['report'] is not None
    return run


def test_the_report_rates_every_source_against_the_hybrid_policy():
    run = succeeded(jada_molecule.results('an_audit_report')['run'])
    rows = rows_by_agent(run['report'])
    assert rows[('router', 'json_file')]['compliant'] is False
    assert rows[('router', 'json_file')]['policy_model'] == 'claude-haiku-4-5'
    assert rows[('router', 'json_file')]['host'] == HOST
    assert rows[('validator', 'json_file')]['compliant'] is True
    assert rows[('validator', 'ssm')]['compliant'] is True
    assert rows[('planner', 'ssm')]['compliant'] is False and rows[('planner', 'ssm')]['secure'] is True
    assert rows[('summarizer', 'lambda')]['compliant'] is False
    assert rows[('classifier', 'lambda')]['compliant'] is True
    # 10M input and 2M output tokens a month by default: Sonnet 10*3 + 2*15 = 60, Haiku 10*1 + 2*5 = 20.
    assert rows[('router', 'json_file')]['monthly_cost_usd'] == pytest.approx(60.0)
    assert rows[('router', 'json_file')]['policy_monthly_cost_usd'] == pytest.approx(20.0)
    # The report is what the module returned, and the run shows the module's table, every agent in it.
    assert run['report']['rows'] == run['audit']['rows'] and run['report']['summary'] == run['audit']['summary']
    assert run['shown'] == run['audit']['table']
    header = run['shown'].splitlines()[0].split()
    assert 'AGENT' in header
    for agent in ('router', 'validator', 'planner', 'summarizer', 'classifier'):
        assert agent in run['shown']


def test_a_config_whose_model_is_an_object_is_counted_unreadable_and_named():
    run = succeeded(jada_molecule.results('an_audit_report')['run'])
    errors = run['report']['errors']
    assert [(error['host'], error['source']) for error in errors] == [
        (HOST, '/opt/jada/lambda/reporter/config.json')], errors
    # Where in the file, never what: the position of the object.
    assert (errors[0]['line'], errors[0]['column']) == (1, 11)
    assert errors[0]['error'].endswith('found an object')
    assert run['report']['summary']['errors'] == 1
    assert ', 1 unreadable' in run['shown']
    assert 'reporter' not in [row['agent'] for row in run['report']['rows']]


@pytest.mark.parametrize('name', AUDITS)
def test_no_run_shows_or_reports_a_secret(name):
    record = jada_molecule.results(name)
    runs = [record['run']] + [record[other] for other in ('after', 'alone') if other in record]
    for run in runs:
        text = json.dumps(run['output']) + run['stderr'] + json.dumps(run['report'])
        for secret in SECRETS:
            assert secret not in text


def test_fix_corrects_files_and_ssm_and_leaves_lambda_alone():
    record = jada_molecule.results('an_audit_that_fixes')
    succeeded(record['run'])
    assert record['router_after'] == record['router_before'].replace('claude-sonnet-4-6', 'claude-haiku-4-5')
    assert record['router_before'] != record['router_after']
    assert record['planner'] == {'value': 'claude-haiku-4-5', 'type': 'SecureString'}
    assert record['summarizer']['ANTHROPIC_MODEL'] == 'claude-sonnet-4-6'


def test_fix_lambda_corrects_the_function_and_keeps_its_other_variables():
    record = jada_molecule.results('an_audit_that_fixes_lambda_too')
    succeeded(record['run'])
    assert record['summarizer'] == {'ANTHROPIC_MODEL': 'claude-haiku-4-5', 'LOG_LEVEL': 'info'}
    after = succeeded(record['after'])
    assert after['report']['summary']['non_compliant'] == 0, after['shown']


def test_a_limit_that_leaves_out_localhost_is_refused_before_anything_is_read():
    alone = jada_molecule.results('an_audit_under_a_limit')['alone']
    assert alone['rc'] != 0
    assert alone['files'] is None and alone['audit'] is None and alone['report'] is None
    assert [failure['task'] for failure in alone['failures']] == [
        "Refuse a --limit that leaves out localhost, where the audit rates, reports and fails"], alone['failures']
    # The fix it names is the limit to run with, which the next test shows to work.
    assert "--limit '%s,localhost'" % HOST in alone['failures'][0]['msg']


def test_a_limit_with_localhost_added_audits_the_host_and_aws_whole():
    run = succeeded(jada_molecule.results('an_audit_under_a_limit')['run'])
    full = jada_molecule.results('an_audit_report')['run']['report']
    assert rows_by_agent(run['report']) == rows_by_agent(full)
    assert rows_by_agent(run['report'])[('router', 'json_file')]['host'] == HOST


@pytest.mark.parametrize('name', AUDITS)
def test_what_the_audit_seeded_on_the_host_is_gone(host, name):
    for path in jada_molecule.results(name)['created']:
        assert not host.file(path).exists, path
