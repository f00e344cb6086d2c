"""The drift scenario's side effects: the drift check on a converged host, on a host drifted by hand (report mode,
then remediate mode) and on an agent still answering on another model than its files say; runs of the drift
schedule's service, one of them finding the lock taken; and audit_models.yml against agents' files on the host and
SSM/Lambda in a moto_server. Each case drifts or seeds what it needs, records what it saw, and puts the host back as
the converge left it."""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile

import boto3
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lightsail_endpoint'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position
import server  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-drift'
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
DROPIN = jada_molecule.DROPIN_DIR + '/50-limits.conf'

# The drift_schedule role's service, as converge.yml installs it.
DRIFT_SERVICE = 'jada-agent-drift.service'
STATE_DIR = '/var/lib/jada-agent-drift'
CALLS = STATE_DIR + '/calls'
LOCK = STATE_DIR + '/run.lock'

# The audit's sources: two agents' files on the host, SSM parameters and Lambda functions in moto_server.
AUDIT_CREDENTIALS = {'aws_access_key_id': 'testing', 'aws_secret_access_key': 'audit-secret-do-not-print',
                     'region_name': 'us-east-1'}
AGENT_DIRS = ('/opt/jada/lambda', '/opt/jada/lambda/router', '/opt/jada/lambda/validator', '/opt/jada/lambda/reporter')
ROUTER = '/opt/jada/lambda/router/config.json'
ROUTER_TEXT = '{\n    "name": "router",\n    "model": "claude-sonnet-4-6",\n    "env": {"API_TOKEN": "tok-123"}\n}'
VALIDATOR = '/opt/jada/lambda/validator/config.json'
VALIDATOR_TEXT = '{"model": "claude-haiku-4-5"}\n'
# A config whose "model" is an object: no model the audit can rate, so it must be counted as unreadable.
REPORTER = '/opt/jada/lambda/reporter/config.json'
REPORTER_TEXT = '{"model": {"id": "claude-sonnet-4-6"}}\n'


def host():
    return testinfra.get_host('podman://' + HOST)


# The drift check.

def drift_run(mode, *extra):
    """drift_remediation.yml in ``mode``, with the JSON callback: its outcome and the JSON report it wrote."""
    with tempfile.TemporaryDirectory() as report_dir:
        run = jada_molecule.play('playbooks/drift_remediation.yml', '-e', 'jada_agent_drift_mode=' + mode,
                                 '-e', 'jada_agent_drift_report_dir=' + report_dir, *extra)
        latest = os.path.join(report_dir, 'latest.json')
        report = None
        if os.path.exists(latest):
            with open(latest) as handle:
                report = json.load(handle)
    return {'rc': run['rc'], 'report': report, 'stats': run['report'].get('stats', {}),
            'failures': dict((name, jada_molecule.failures(run['report'], name)) for name in (HOST, GONE)),
            'output': run['report'], 'stderr': run['stderr']}


@contextlib.contextmanager
def drifted_by_hand(target):
    """The host drifted as people drift it: the model rewritten the way the CLI's /model does, the limits drop-in
    edited, the service stopped. On leaving, both files are back byte for byte and the agent runs on them."""
    try:
        with jada_molecule.restored(target, REPOSITORY_SETTINGS, DROPIN):
            jada_molecule.drift_model(target, REPOSITORY_SETTINGS, 'claude-haiku-4-5')
            target.check_output("sed -i 's/^LimitNOFILE=.*/LimitNOFILE=4096/' %s" % DROPIN)
            target.check_output('systemctl daemon-reload && systemctl stop jada-agent')
            yield
    finally:
        target.check_output('systemctl daemon-reload')
        if not target.service('jada-agent').is_running:
            target.check_output('systemctl start jada-agent')


def drift_check_on_a_converged_host():
    target = host()
    before = jada_molecule.state(target)
    run = drift_run('report')
    return {'before': before, 'after': jada_molecule.state(target), 'run': run}


def drift_report_on_a_drifted_host():
    target = host()
    with drifted_by_hand(target):
        before = jada_molecule.state(target)
        run = drift_run('report')
        after = jada_molecule.state(target)
    return {'before': before, 'after': after, 'run': run}


def drift_remediation_on_a_drifted_host():
    """Remediate mode, then a report of the host it left; what the fix left on the host is recorded before the
    files are put back byte for byte (the fix rewrites only the model of a file the drift reformatted)."""
    target = host()
    with drifted_by_hand(target):
        run = drift_run('remediate')
        fixed = {'model': jada_molecule.model(target, REPOSITORY_SETTINGS),
                 'dropin': target.file(DROPIN).content_string,
                 'running': target.service('jada-agent').is_running,
                 'nofile': jada_molecule.effective_nofile(target)}
        again = drift_run('report')
    return {'run': run, 'fixed': fixed, 'again': again}


LIGHTSAIL_KEYS = ('AKIADRIFTPREFLIGHT00', 'drift-preflight-secret-do-not-print')


def drift_runs_on_a_stopped_lightsail_instance():
    """The host drifted, and its Lightsail instance says stopped (the endpoint is validated against botocore's model):
    a report must not ask AWS at all, and a fix must ask before it touches the host, and then leave it as it was."""
    target = host()
    scenario = {'region': 'us-east-1', 'access_keys': [LIGHTSAIL_KEYS[0]],
                'instances': {'jada-agent-drift': {'states': ['stopped']}}}
    with drifted_by_hand(target), server.LightsailEndpoint(scenario) as endpoint:
        args = ('-e', 'jada_agent_platform=lightsail', '-e', 'jada_agent_lightsail_instance=jada-agent-drift',
                '-e', 'jada_agent_aws_endpoint_url=' + endpoint.url, '-e', 'jada_agent_aws_access_key=' + LIGHTSAIL_KEYS[0],
                '-e', 'jada_agent_aws_secret_key=' + LIGHTSAIL_KEYS[1])
        before = jada_molecule.state(target)
        report = drift_run('report', *args)
        report_requests = list(endpoint.requests)
        fix = drift_run('remediate', *args)
        fix_requests = endpoint.requests[len(report_requests):]
        after = jada_molecule.state(target)
        violations = list(endpoint.violations)
    return {'before': before, 'after': after, 'report': report, 'report_requests': report_requests, 'fix': fix,
            'fix_requests': fix_requests, 'violations': violations}


def drift_check_of_a_stale_agent():
    """The files say Sonnet, but the running agent answers on Haiku: it was started while they said Haiku. The check
    runs in report mode, so it must change nothing; the agent is restarted on its files afterwards."""
    target = host()
    with jada_molecule.restored(target, REPOSITORY_SETTINGS):
        jada_molecule.drift_model(target, REPOSITORY_SETTINGS, 'claude-haiku-4-5')
        target.check_output('systemctl restart jada-agent')
        answered = jada_molecule.ask_agent(HOST, 'timeout=60')['answered_by']
        jada_molecule.drift_model(target, REPOSITORY_SETTINGS, 'claude-sonnet-4-6')
        before = jada_molecule.state(target)
        run = drift_run('report')
        after = jada_molecule.state(target)
    # Put the agent back on what its files say.
    target.check_output('systemctl restart jada-agent')
    restored = jada_molecule.ask_agent(HOST, 'timeout=60')['answered_by']
    return {'answered': answered, 'before': before, 'after': after, 'run': run, 'restored': restored}


GONE = 'jada-molecule-drift-gone'


def drift_check_with_a_host_it_cannot_reach():
    """A second orchestrator in the inventory whose container does not exist: the report must list it as not
    checked, and still check the host it can reach. Then the same inventory with --limit, as a schedule limited to
    part of the fleet runs it: to the reachable host only, and to the lost one only (no host left to report from)."""
    target = host()
    before = jada_molecule.state(target)
    with tempfile.NamedTemporaryFile('w', suffix='.yml') as inventory:
        json.dump({'jada_orchestrators': {'hosts': {GONE: {'ansible_connection': 'containers.podman.podman'}}}},
                  inventory)
        inventory.flush()
        run = drift_run('report', '-i', inventory.name)
        limited = drift_run('report', '-i', inventory.name, '--limit', HOST)
        only_gone = drift_run('report', '-i', inventory.name, '--limit', GONE)
    return {'before': before, 'after': jada_molecule.state(target), 'run': run, 'limited': limited,
            'only_gone': only_gone}


LOST = 'jada-molecule-drift-lost'
# podman for LOST: it runs podman until the read's module has run and its temporary directory is removed, then
# answers as for a container that is gone, so that Ansible finds the host unreachable from its next task on. The
# module's run is the call naming python with it (the chmod before it names the file too).
LOSING_PODMAN = """#!/bin/sh
[ -e "%(gone)s" ] && { echo "Error: no container with name or ID found" >&2; exit 125; }
case "$*" in
    *python*AnsiballZ_agent_host_info.py*) touch "%(read)s" ;;
    *"rm -f -r"*) [ -e "%(read)s" ] && { "%(podman)s" "$@"; rc=$?; touch "%(gone)s"; exit $rc; } ;;
esac
exec "%(podman)s" "$@"
"""


def drift_remediation_that_loses_a_host():
    """Remediate mode on the drifted host under two inventory names: its own, and LOST, whose podman stops answering
    once its read has run, as a host that goes away during the fix. The report must name LOST failed, lost after its
    read (not "drift remains" as if no fix had been tried), and the host under its own name fixed."""
    target = host()
    with drifted_by_hand(target), tempfile.TemporaryDirectory() as work:
        podman = os.path.join(work, 'podman')
        with open(podman, 'w') as handle:
            handle.write(LOSING_PODMAN % {'read': os.path.join(work, 'read'), 'gone': os.path.join(work, 'gone'),
                                          'podman': shutil.which('podman')})
        os.chmod(podman, 0o755)
        inventory = os.path.join(work, 'inventory.yml')
        with open(inventory, 'w') as handle:
            json.dump({'jada_orchestrators': {'hosts': {LOST: {
                'ansible_connection': 'containers.podman.podman', 'ansible_host': HOST,
                'ansible_podman_executable': podman}}}}, handle)
        run = drift_run('remediate', '-i', inventory)
        lost_after_read = os.path.exists(os.path.join(work, 'gone'))
    return {'run': run, 'lost_after_read': lost_after_read}


# The drift schedule's service.

@contextlib.contextmanager
def schedule_state_put_back(target):
    """The service's state directory as the converge left it: its calls record and lock file put back, and the
    directory removed again when a run created it (systemd creates it at the service's first start)."""
    existed = target.file(STATE_DIR).exists
    try:
        if not existed:
            # Where systemd would create it, so that the lock can be taken before any run.
            target.check_output('install -d -o jada-drift -g jada-drift -m 0755 %s' % STATE_DIR)
        with jada_molecule.restored(target, CALLS, LOCK):
            yield existed
    finally:
        if not existed:
            target.check_output('rm -rf %s' % STATE_DIR)


def run_the_drift_service(target, command):
    target.check_output('rm -f %s' % CALLS)
    result = target.run(command)
    calls = target.file(CALLS)
    return {'rc': result.rc, 'stderr': result.stderr, 'calls': calls.content_string if calls.exists else None,
            'result': target.check_output('systemctl show -p Result --value %s' % DRIFT_SERVICE)}


def a_scheduled_drift_run():
    target = host()
    with schedule_state_put_back(target) as existed:
        record = run_the_drift_service(target, 'systemctl start %s' % DRIFT_SERVICE)
    record['state_dir_existed'] = existed
    return record


def a_drift_run_that_finds_the_lock_taken():
    target = host()
    with schedule_state_put_back(target) as existed:
        record = run_the_drift_service(target, 'flock %s systemctl start %s' % (LOCK, DRIFT_SERVICE))
    record['state_dir_existed'] = existed
    return record


# audit_models.yml.

@contextlib.contextmanager
def audit_sources():
    """moto_server with SSM parameters (one a SecureString, one an API key that is no model) and two Lambda
    functions, and two agents' files on the host; all gone again on leaving."""
    target = host()
    created = [path for path in AGENT_DIRS + (ROUTER, VALIDATOR, REPORTER) if not target.file(path).exists]
    process, url = jada_molecule.start_moto_server()
    try:
        ssm = boto3.client('ssm', endpoint_url=url, **AUDIT_CREDENTIALS)
        ssm.put_parameter(Name='/jada/agents/validator/model', Value='claude-haiku-4-5', Type='String')
        ssm.put_parameter(Name='/jada/agents/planner/model', Value='claude-sonnet-4-6', Type='SecureString')
        ssm.put_parameter(Name='/jada/agents/planner/api_key', Value='sk-planner-secret', Type='SecureString')
        iam = boto3.client('iam', endpoint_url=url, **AUDIT_CREDENTIALS)
        role = iam.create_role(RoleName='jada-lambda', AssumeRolePolicyDocument='{}')['Role']['Arn']
        lambda_ = boto3.client('lambda', endpoint_url=url, **AUDIT_CREDENTIALS)
        code = io.BytesIO()
        with zipfile.ZipFile(code, 'w') as archive:
            archive.writestr('index.py', 'def handler(event, context):\n    return event\n')
        for name, model in (('summarizer', 'claude-sonnet-4-6'), ('classifier', 'claude-haiku-4-5')):
            lambda_.create_function(FunctionName=name, Runtime='python3.12', Role=role, Handler='index.handler',
                                    Code={'ZipFile': code.getvalue()},
                                    Environment={'Variables': {'ANTHROPIC_MODEL': model, 'LOG_LEVEL': 'info'}})
        with jada_molecule.restored(target, ROUTER, VALIDATOR, REPORTER):
            target.check_output('mkdir -p %s' % ' '.join(AGENT_DIRS[1:]))
            target.check_output("printf '%%s' '%s' > %s" % (ROUTER_TEXT, ROUTER))
            target.check_output("printf '%%s' '%s' > %s" % (VALIDATOR_TEXT, VALIDATOR))
            target.check_output("printf '%%s' '%s' > %s" % (REPORTER_TEXT, REPORTER))
            yield {'url': url, 'ssm': ssm, 'lambda': lambda_, 'host': target, 'created': created}
    finally:
        # The files are gone already (restored); the directories that were made for them go too, empty or not at all.
        for path in reversed([path for path in created if path in AGENT_DIRS]):
            target.check_output('rm -df %s' % path)
        process.terminate()
        process.wait()


def audit(aws, *extra):
    """audit_models.yml against moto_server, with the JSON callback: its outcome, the audit module's result, what the
    run showed, and the JSON report it wrote."""
    with tempfile.TemporaryDirectory() as report_dir:
        run = jada_molecule.play(
            'playbooks/audit_models.yml', '-e', 'jada_agent_audit_aws_endpoint_url=' + aws['url'],
            '-e', 'jada_agent_audit_aws_access_key=' + AUDIT_CREDENTIALS['aws_access_key_id'],
            '-e', 'jada_agent_audit_aws_secret_key=' + AUDIT_CREDENTIALS['aws_secret_access_key'],
            '-e', 'jada_agent_audit_report_dir=' + report_dir, *extra)
        latest = os.path.join(report_dir, 'latest.json')
        report = None
        if os.path.exists(latest):
            with open(latest) as handle:
                report = json.load(handle)
    audited = jada_molecule.task_results(run['report'], 'localhost', action='jada.agent.agent_model_audit')
    shown = jada_molecule.task_results(run['report'], 'localhost', name='Show the audit table')
    files = jada_molecule.task_results(run['report'], HOST, action='jada.agent.agent_model_files')
    return {'rc': run['rc'], 'report': report, 'audit': audited[0] if audited else None,
            'shown': shown[0].get('msg') if shown else None, 'files': files[0] if files else None,
            'failures': jada_molecule.failures(run['report'], 'localhost') + jada_molecule.failures(run['report'], HOST),
            'output': run['report'], 'stderr': run['stderr']}


def lambda_environment(aws, name):
    return aws['lambda'].get_function_configuration(FunctionName=name)['Environment']['Variables']


def an_audit_report():
    with audit_sources() as aws:
        return {'run': audit(aws), 'created': aws['created']}


def an_audit_that_fixes():
    with audit_sources() as aws:
        before = aws['host'].file(ROUTER).content_string
        run = audit(aws, '-e', 'jada_agent_audit_fix=true')
        planner = aws['ssm'].get_parameter(Name='/jada/agents/planner/model', WithDecryption=True)['Parameter']
        return {'run': run, 'router_before': before, 'router_after': aws['host'].file(ROUTER).content_string,
                'planner': {'value': planner['Value'], 'type': planner['Type']},
                'summarizer': lambda_environment(aws, 'summarizer'), 'created': aws['created']}


def an_audit_that_fixes_lambda_too():
    with audit_sources() as aws:
        run = audit(aws, '-e', 'jada_agent_audit_fix=true', '-e', 'jada_agent_audit_fix_lambda=true')
        summarizer = lambda_environment(aws, 'summarizer')
        return {'run': run, 'summarizer': summarizer, 'after': audit(aws), 'created': aws['created']}


def an_audit_under_a_limit():
    """--limit with the host alone is refused before anything is read; with localhost added the audit runs whole."""
    with audit_sources() as aws:
        return {'alone': audit(aws, '--limit', HOST), 'run': audit(aws, '--limit', HOST + ',localhost'),
                'created': aws['created']}


EXERCISES = [
    drift_check_on_a_converged_host,
    drift_report_on_a_drifted_host,
    drift_remediation_on_a_drifted_host,
    drift_runs_on_a_stopped_lightsail_instance,
    drift_check_of_a_stale_agent,
    drift_check_with_a_host_it_cannot_reach,
    drift_remediation_that_loses_a_host,
    a_scheduled_drift_run,
    a_drift_run_that_finds_the_lock_taken,
    an_audit_report,
    an_audit_that_fixes,
    an_audit_that_fixes_lambda_too,
    an_audit_under_a_limit,
]
