"""The rollback scenario's side effects: rollouts that must stop before any change (an instance that is not
running) and rollouts that fail the way real upgrades fail, against the real Claude Code CLI. Each records what it
saw for the verify step; the hosts end on their previous configuration, which is what the tests check."""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import boto3
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lightsail_endpoint'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position
import server  # noqa: E402  pylint: disable=wrong-import-position

CANARY, SECOND = 'jada-molecule-rollback-1', 'jada-molecule-rollback-2'
HOSTS = (CANARY, SECOND)
NEW = 'claude-sonnet-4-6'
ACCESS_KEY = 'AKIAPREFLIGHTTEST000'
SECRET_KEY = 'preflight-test-secret-key-do-not-print'
# How the API stand-in fails the new model: as the real API refuses an unknown model, and as it sheds load.
FAILURES = {'not-found': 'not_found_error', 'overloaded': 'overloaded_error'}
# Who is the canary of each failed rollout: the first host in inventory order, then the one jada_agent_canary names.
# The first one also moves the agent's environment to a new file: the rollout creates it, the rollback must remove it.
NEW_ENVIRONMENT_FILE = '/etc/jada/jada-agent-rollout.env'
CANARY_ARGS = {'not-found': ('-e', 'jada_agent_environment_file=' + NEW_ENVIRONMENT_FILE),
               'overloaded': ('-e', 'jada_agent_canary=' + SECOND)}
# Input that must be refused before any host is read. `jada_agent_model=claude sonnet` is what a user types
# unquoted; Ansible's key=value parsing makes it "claude".
BAD_INPUT = {
    'empty model': ('-e', 'jada_agent_model='),
    'unquoted model with a blank': ('-e', 'jada_agent_model=claude sonnet'),
    '300-character model': ('-e', 'jada_agent_model=claude-' + 'x' * 293),
    'negative settle time': ('-e', 'jada_agent_settle_seconds=-5'),
    'serial 0': ('-e', 'jada_agent_serial=0'),
    'unknown canary': ('-e', 'jada_agent_canary=jada-agent-9'),
}


def hosts():
    return dict((name, testinfra.get_host('podman://' + name)) for name in HOSTS)


def states():
    return dict((name, jada_molecule.state(host)) for name, host in hosts().items())


def a_stopped_lightsail_canary():
    scenario = {
        'region': 'us-east-1',
        'access_keys': [ACCESS_KEY],
        'instances': {
            'jada-agent-1': {'states': ['stopped']},
            'jada-agent-2': {'states': ['running'], 'public_ip': '203.0.113.12'},
        },
    }
    before = states()
    with server.LightsailEndpoint(scenario) as endpoint:
        args = ('-e', 'jada_agent_platform=lightsail',
                '-e', 'jada_agent_aws_endpoint_url=%s' % endpoint.url,
                '-e', 'jada_agent_aws_access_key=%s' % ACCESS_KEY,
                '-e', 'jada_agent_aws_secret_key=%s' % SECRET_KEY,
                '-e', '{"jada_agent_lightsail_instance": "{{ inventory_hostname | replace(\'jada-molecule-rollback\', \'jada-agent\') }}"}')
        run = jada_molecule.run_playbook('upgrade-model.yml', *args)
        requests, violations = list(endpoint.requests), list(endpoint.violations)
        # Asked for what the hosts already run (model, CLI, limits left alone): nothing to change, so no instance
        # needs to be asked about.
        converged = jada_molecule.run_playbook(
            'upgrade-model.yml', '-e', 'jada_agent_model=claude-haiku-4-5',
            '-e', 'jada_agent_cli_version=' + os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION'],
            '-e', '{"jada_agent_nofile": null}', *args)
        converged_requests = endpoint.requests[len(requests):]
    return {'before': before, 'after': states(), 'run': jada_molecule.outcome(run), 'requests': requests,
            'violations': violations, 'converged': jada_molecule.outcome(converged),
            'converged_requests': converged_requests}


GONE = 'jada-molecule-rollback-gone'


def an_unreachable_host_in_the_read():
    """A third orchestrator whose container does not exist: the read phase names it, and no host is touched."""
    before = states()
    with tempfile.NamedTemporaryFile('w', suffix='.yml') as inventory:
        json.dump({'jada_orchestrators': {'hosts': {GONE: {'ansible_connection': 'containers.podman.podman'}}}},
                  inventory)
        inventory.flush()
        run = jada_molecule.play('upgrade-model.yml', '-i', inventory.name)
    return {'before': before, 'after': states(), 'rc': run['rc'], 'stats': run['report'].get('stats', {}),
            'failures': jada_molecule.failures(run['report'], GONE),
            'changed': dict((name, [result['task'] for result in jada_molecule.task_results(run['report'], name)
                                    if result.get('changed')]) for name in HOSTS)}


def a_stopped_ec2_canary():
    process, url = jada_molecule.start_moto_server()
    try:
        ec2 = boto3.client('ec2', endpoint_url=url, region_name='us-east-1', aws_access_key_id='testing',
                           aws_secret_access_key=SECRET_KEY)
        image = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
        ids = [instance['InstanceId'] for instance in
               ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)['Instances']]
        ec2.stop_instances(InstanceIds=ids[:1])
        before = states()
        run = jada_molecule.run_playbook(
            'upgrade-model.yml',
            '-e', 'jada_agent_platform=ec2',
            '-e', 'jada_agent_aws_endpoint_url=%s' % url,
            '-e', 'jada_agent_aws_access_key=testing',
            '-e', 'jada_agent_aws_secret_key=%s' % SECRET_KEY,
            '-e', json.dumps({'jada_agent_ec2_instance_id': "{{ %s[inventory_hostname] }}" % json.dumps(
                dict(zip(HOSTS, ids)))}))
        return {'before': before, 'after': states(), 'run': jada_molecule.outcome(run), 'ids': ids}
    finally:
        process.terminate()
        process.wait()


def failed_rollouts():
    """Both failed rollouts, one after the other; each records the hosts before and after."""
    rollouts = {}
    targets = hosts()
    for case, error in sorted(FAILURES.items()):
        for host in targets.values():
            jada_molecule.script_api(host, {'models': {NEW: {'error': error}}})
        before = states()
        requests = dict((name, len(jada_molecule.api_requests(host))) for name, host in targets.items())
        canary, second = (SECOND, CANARY) if case == 'overloaded' else (CANARY, SECOND)
        environment_file_before = targets[canary].file(NEW_ENVIRONMENT_FILE).exists
        run = jada_molecule.play('upgrade-model.yml', *CANARY_ARGS[case])
        rollouts[case] = {
            'canary': canary, 'second': second,
            'before': before, 'rc': run['rc'], 'stderr': run['stderr'],
            'failures': jada_molecule.failures(run['report'], canary),
            'verifications': jada_molecule.task_results(run['report'], canary,
                                                        action='jada.agent.agent_service_restart_verify'),
            'second_results': jada_molecule.task_results(run['report'], second),
            'environment_installed': jada_molecule.task_results(
                run['report'], canary, name='Install the environment file of jada-agent'),
            'environment_file': [environment_file_before, targets[canary].file(NEW_ENVIRONMENT_FILE).exists],
            'requests': dict((name, jada_molecule.api_requests(host)[requests[name]:]) for name, host in targets.items()),
            'after': states(),
        }
    for host in targets.values():
        jada_molecule.script_api(host, {})
    return rollouts


# Runtime drop-ins (not in any file the state compares, gone with the directory) that break the agent.
FAULT = '/run/systemd/system/jada-agent.service.d/90-fault.conf'
FAULTS = {
    'failed': "[Service]\nExecStart=\nExecStart=/bin/false\nRestart=no\n",
    # The CLI crashing at every start: systemd restarts it again and again, "active" in some samples only.
    'crash loop': ("[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=\nExecStart=/bin/sh -c 'sleep 0.3; exit 1'\n"
                   "Restart=always\nRestartSec=200ms\n"),
}
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
LOCAL_SETTINGS = '/srv/jada/orchestrator/.claude/settings.local.json'
WITH_LOCAL_SETTINGS = json.dumps({'jada_agent_settings_files': [
    '~jada/.claude/settings.json', REPOSITORY_SETTINGS, LOCAL_SETTINGS]})


def break_agent(host, fault):
    host.check_output('mkdir -p %s && printf %%s %s > %s && systemctl daemon-reload && { systemctl restart jada-agent '
                      '|| true; } && sleep 2' % (os.path.dirname(FAULT), shlex.quote(FAULTS[fault]), FAULT))


def heal_agent(host):
    host.check_output('rm -f %s && systemctl daemon-reload && systemctl reset-failed jada-agent; systemctl restart '
                      'jada-agent' % FAULT)


def refused_for_host_state(*args):
    before = states()
    run = jada_molecule.play('upgrade-model.yml', *args)
    return {'rc': run['rc'], 'before': before, 'after': states(),
            'failures': dict((name, jada_molecule.failures(run['report'], name)) for name in HOSTS),
            'warnings': run['stderr'],
            'leftovers': dict((name, host.run('ls -d /~ghost ~root/~ghost 2>/dev/null').stdout.split())
                              for name, host in hosts().items())}


def bad_host_state():
    """A finding on the last host in inventory order stops the rollout before the canary (the first) is touched."""
    last = hosts()[SECOND]
    record = {}
    with jada_molecule.restored(last, REPOSITORY_SETTINGS):
        last.check_output("sed -i '1a // a comment, as people write in JSON' %s" % REPOSITORY_SETTINGS)
        record['a // comment in a settings file'] = refused_for_host_state()
    record['a missing service user'] = refused_for_host_state('-e', 'jada_agent_user=ghost')
    try:
        last.check_output('mkdir %s' % LOCAL_SETTINGS)
        record['a settings path that is a directory'] = refused_for_host_state('-e', WITH_LOCAL_SETTINGS)
    finally:
        last.check_output('rmdir %s' % LOCAL_SETTINGS)
    for fault in sorted(FAULTS):
        break_agent(last, fault)
        try:
            record['an agent that is ' + fault] = refused_for_host_state()
        finally:
            heal_agent(last)
    return record


def a_failed_agent_repaired():
    """jada_agent_repair converges a failed agent; when that fails too, its files go back and it is not restarted."""
    last = hosts()[SECOND]
    break_agent(last, 'failed')
    try:
        before = states()
        run = jada_molecule.play('upgrade-model.yml', '-e', 'jada_agent_repair=true',
                                 '-e', 'jada_agent_target_hosts=' + SECOND)
        reads = jada_molecule.task_results(run['report'], SECOND, action='jada.agent.agent_host_info')
        record = {'rc': run['rc'], 'before': before, 'after': states(), 'warnings': reads[0]['plan']['warnings'],
                  'failures': jada_molecule.failures(run['report'], SECOND),
                  'ran': [result['task'] for result in jada_molecule.task_results(run['report'], SECOND)
                          if not result.get('skipped')],
                  'active': last.run('systemctl is-active jada-agent').stdout.strip()}
    finally:
        heal_agent(last)
    return record


SNAPSHOTS = '/var/lib/jada-agent/snapshot'
KILL_POINTS = ('after the snapshot', 'after the settings writes', 'after the restart')


def podman(name, command):
    """A quick look into a host, fast enough to poll (testinfra's backend is slower)."""
    return subprocess.run(['podman', 'exec', name, 'sh', '-c', command], capture_output=True, text=True,
                          check=False).stdout.strip()


def snapshot_count(name):
    return int(podman(name, 'ls -d %s/*/ 2>/dev/null | wc -l' % SNAPSHOTS) or 0)


PHASES_SCRIPT = ("import json, os; r = %r; print(json.dumps(dict((d, json.load(open(os.path.join(r, d, 'phase.json')))"
                 "['phase']) for d in os.listdir(r) if os.path.isfile(os.path.join(r, d, 'phase.json')))))" % SNAPSHOTS)


def phases(name):
    """{rollout id: phase} of the snapshots on a host."""
    return json.loads(podman(name, 'python3 -c %s' % shlex.quote(PHASES_SCRIPT)) or '{}')


def main_pid(name):
    return podman(name, 'systemctl show -p MainPID --value jada-agent')


def settle_after_kill(name):
    """Wait until nothing the killed run started still runs on the host (a module finishes on its own)."""
    for dummy in range(120):
        # [A]: the pattern must not match the shell that runs pgrep.
        if not podman(name, 'pgrep -f "[A]nsiballZ" || true'):
            return
        time.sleep(0.5)
    raise AssertionError('modules of the killed run still run on %s' % name)


def reached(point):
    """A check that the canary's rollout got to ``point``, against the canary as it is now."""
    count, pid = snapshot_count(CANARY), main_pid(CANARY)
    checks = {
        'after the snapshot': lambda: snapshot_count(CANARY) > count,
        'after the settings writes': lambda: NEW in podman(CANARY, 'cat %s' % REPOSITORY_SETTINGS),
        'after the restart': lambda: main_pid(CANARY) not in (pid, '0', ''),
    }
    return checks[point]


def killed_rollouts():
    """kill -9 of ansible-playbook at three points of the canary's rollout, then a rerun whose new model the API
    refuses: the rerun must put the unfinished rollout's snapshot back first, so its own rollback ends on the files
    from before the killed run, byte for byte."""
    targets = hosts()
    record = {}
    for point in KILL_POINTS:
        for host in targets.values():
            jada_molecule.script_api(host, {})
        before = states()
        killed = jada_molecule.kill_playbook_when('upgrade-model.yml', reached(point))
        settle_after_kill(CANARY)
        killed_state = states()
        for host in targets.values():
            jada_molecule.script_api(host, {'models': {NEW: {'error': 'not_found_error'}}})
        rerun = jada_molecule.play('upgrade-model.yml')
        reads = jada_molecule.task_results(rerun['report'], CANARY, action='jada.agent.agent_host_info')
        record[point] = {
            'killed': killed, 'before': before, 'killed_state': killed_state, 'after': states(), 'rc': rerun['rc'],
            'unfinished': reads[0]['plan']['unfinished'] if reads else None,
            'warnings': reads[0]['plan']['warnings'] if reads else [],
            'ran': [result['task'] for result in jada_molecule.task_results(rerun['report'], CANARY)
                    if not result.get('skipped')],
            'failures': jada_molecule.failures(rerun['report'], CANARY),
            'second_changed': [result['task'] for result in jada_molecule.task_results(rerun['report'], SECOND)
                               if result.get('changed')],
            'phases': phases(CANARY),
        }
    for host in targets.values():
        jada_molecule.script_api(host, {})
    return record


def a_killed_rollout_finished():
    """kill -9 after the settings writes, then a rerun told to finish the unfinished rollout instead of rolling it
    back: it converges from the half-applied files and marks the killed one abandoned. playbooks/rollback.yml with
    the killed rollout's id then puts back the files from before it."""
    targets = hosts()
    for host in targets.values():
        jada_molecule.script_api(host, {})
    before = states()
    known = set(phases(CANARY))
    killed = jada_molecule.kill_playbook_when('upgrade-model.yml', reached('after the settings writes'),
                                              '-e', 'jada_agent_target_hosts=' + CANARY)
    settle_after_kill(CANARY)
    killed_ids = sorted(set(phases(CANARY)) - known)
    rerun = jada_molecule.play('upgrade-model.yml', '-e', 'jada_agent_target_hosts=' + CANARY,
                               '-e', 'jada_agent_unfinished_rollout=finish')
    reads = jada_molecule.task_results(rerun['report'], CANARY, action='jada.agent.agent_host_info')
    finished = {'state': states(), 'phases': phases(CANARY),
                'answer': jada_molecule.ask_agent(CANARY, 'timeout=60'),
                'ran': [result['task'] for result in jada_molecule.task_results(rerun['report'], CANARY)
                        if not result.get('skipped')]}
    rollback = jada_molecule.play('playbooks/rollback.yml', '-e', 'jada_agent_target_hosts=' + CANARY,
                                  '-e', 'jada_agent_rollout_id=' + (killed_ids[0] if killed_ids else 'none'))
    return {'killed': killed, 'killed_ids': killed_ids, 'before': before, 'rc': rerun['rc'],
            'unfinished': reads[0]['plan']['unfinished'] if reads else None, 'finished': finished,
            'rollback_rc': rollback['rc'], 'rollback_failures': jada_molecule.failures(rollback['report'], CANARY),
            'after': states(), 'answer_after': jada_molecule.ask_agent(CANARY, 'timeout=60')}


def a_rollout_then_a_manual_rollback():
    """A rollout that succeeds on the canary alone, then playbooks/rollback.yml on it."""
    canary = hosts()[CANARY]
    before = states()
    rollout = jada_molecule.play('upgrade-model.yml', '-e', 'jada_agent_target_hosts=' + CANARY)
    names = jada_molecule.task_results(rollout['report'], CANARY, name='Name this rollout')
    rollout_id = names[0]['ansible_facts']['jada_agent_rollout_id'] if names else None
    upgraded = states()
    answer_upgraded = jada_molecule.ask_agent(CANARY, 'timeout=60')
    rollback = jada_molecule.play('playbooks/rollback.yml', '-e', 'jada_agent_target_hosts=' + CANARY)
    return {'before': before, 'upgraded': upgraded, 'after': states(), 'rollout_rc': rollout['rc'], 'id': rollout_id,
            'rollback_rc': rollback['rc'], 'rollback_failures': jada_molecule.failures(rollback['report'], CANARY),
            'restored': [result.get('id') for result in jada_molecule.task_results(
                rollback['report'], CANARY, name='Put the snapshot back')],
            'phase': json.loads(canary.file('%s/%s/phase.json' % (SNAPSHOTS, rollout_id)).content_string)['phase']
            if rollout_id else None,
            'answer_upgraded': answer_upgraded, 'answer_after': jada_molecule.ask_agent(CANARY, 'timeout=60')}


OLD = 'claude-haiku-4-5'
# A third inventory name for the first container: reachable while the read phase runs, gone from the first task
# of its rollout on (the fact set there), the way a host is lost mid-rollout.
LOST = 'jada-molecule-rollback-lost'
LOST_INVENTORY = {'jada_orchestrators': {'hosts': {LOST: {
    'ansible_connection': 'containers.podman.podman',
    'ansible_host': "{{ '%s' if __jada_agent_before is not defined else 'jada-molecule-gone' }}" % CANARY}}}}


def a_host_lost_mid_rollout():
    """The lost host and the first host in the first batch, the second host in the next: the first batch's other
    host finishes its rollout, and the next batch stops before touching anything, naming the lost host."""
    before = states()
    with tempfile.NamedTemporaryFile('w', suffix='.yml') as inventory:
        json.dump(LOST_INVENTORY, inventory)
        inventory.flush()
        run = jada_molecule.play('upgrade-model.yml', '-i', inventory.name, '-e', 'jada_agent_canary=' + LOST,
                                 '-e', '{"jada_agent_serial": [2, 1]}')
    upgraded = states()
    # The first host's rollout succeeded: put it back as a user would, with the manual rollback.
    rollback = jada_molecule.play('playbooks/rollback.yml', '-e', 'jada_agent_target_hosts=' + CANARY)
    return {'rc': run['rc'], 'stats': run['report'].get('stats', {}), 'before': before, 'upgraded': upgraded,
            'after': states(), 'rollback_rc': rollback['rc'],
            'lost_results': jada_molecule.task_results(run['report'], LOST),
            'second_failures': jada_molecule.failures(run['report'], SECOND),
            'second_results': jada_molecule.task_results(run['report'], SECOND)}


def rewrites_during_the_rollout():
    """The repository settings file rewritten to the old model (the way /model writes it) once the rollout has
    written the new one: before the restart (the agent starts on the old model, and the verification sees it) and
    after it (the agent runs the new model, and only the closing read sees the file). Neither may end rc=0."""
    canary = hosts()[CANARY]
    record = {}
    for point in ('after the write', 'after the restart'):
        before = states()
        pid = main_pid(CANARY)
        requests = len(jada_molecule.api_requests(canary))
        rewrites = []

        def rewrite():
            if NEW not in podman(CANARY, 'cat %s' % REPOSITORY_SETTINGS):
                return False
            # After the restart means after the new agent read its settings: its first request (the verification's
            # task) asked for the new model. A new MainPID alone comes before the CLI reads them.
            if point == 'after the restart' and (main_pid(CANARY) in (pid, '0', '') or NEW not in podman(
                    CANARY, 'tail -n +%d %s/requests.jsonl' % (requests + 1, jada_molecule.API_DIR))):
                return False
            jada_molecule.drift_model(canary, REPOSITORY_SETTINGS, OLD)
            rewrites.append(point)
            return True

        run = jada_molecule.play('upgrade-model.yml', '-e', 'jada_agent_target_hosts=' + CANARY, meanwhile=rewrite)
        case = {'rc': run['rc'], 'rewritten': len(rewrites), 'before': before, 'ran': states(),
                'failures': jada_molecule.failures(run['report'], CANARY),
                'shown': jada_molecule.task_results(run['report'], CANARY,
                                                    name='Show the model of each settings file before and after'),
                'file_after_run': jada_molecule.model(canary, REPOSITORY_SETTINGS)}
        # Caught by the verification, the rollout was rolled back; caught by the closing read, it stands, and the
        # manual rollback puts the host back.
        if case['ran'][CANARY]['digests'] != before[CANARY]['digests']:
            case['rollback_rc'] = jada_molecule.play('playbooks/rollback.yml',
                                                     '-e', 'jada_agent_target_hosts=' + CANARY)['rc']
        case['after'] = states()
        record[point] = case
    return record


def tasks_for_the_canaries_after_the_rollbacks():
    return dict((name, {'answer': jada_molecule.ask_agent(name, 'timeout=60'),
                        'running': host.service('jada-agent').is_running}) for name, host in hosts().items())


def bad_input():
    """Each bad value, alone: the run must fail before any host is read, naming the variable."""
    runs = {}
    for case, args in sorted(BAD_INPUT.items()):
        before = states()
        run = jada_molecule.play('upgrade-model.yml', *args)
        runs[case] = {
            'rc': run['rc'], 'before': before, 'after': states(),
            'failures': dict((name, jada_molecule.failures(run['report'], name)) for name in HOSTS),
            'reads': sum(len(jada_molecule.host_reads(run['report'], name)) for name in HOSTS),
        }
    return runs


EXERCISES = [
    a_stopped_lightsail_canary,
    a_stopped_ec2_canary,
    an_unreachable_host_in_the_read,
    failed_rollouts,
    bad_input,
    bad_host_state,
    a_failed_agent_repaired,
    killed_rollouts,
    a_killed_rollout_finished,
    a_host_lost_mid_rollout,
    rewrites_during_the_rollout,
    a_rollout_then_a_manual_rollback,
    tasks_for_the_canaries_after_the_rollbacks,
]
