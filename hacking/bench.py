"""Benchmark of converged runs against local demo orchestrators (podman systemd containers).

Usage (after hacking/setup.sh, inside hacking/env.sh's environment; `make bench` does both):
    python hacking/bench.py [--repeat 5] [--sizes 1,4,8] [--keep]

Measures side by side, in one run, against the same hosts:
  - `ansible <hosts> -m ansible.builtin.ping` (the yardstick),
  - a converged `upgrade-model.yml` (target: at most 1.5x ping; zero changed, zero restarts),
  - `drift_remediation.yml` in report mode (target: at most 1.3x ping),
  - the controller's CPU seconds per host of each (user + sys of the whole ansible process tree), steadier than wall
    time on a shared machine,
  - how the converged run grows from 1 to 8 hosts (target: at most +30%),
  - the restart window of a real change: from the restart until verified healthy (target: settle + 2 s),
  - module executions per host for each playbook, counted from the JSON callback.
Prints a Markdown table for README.md. Timing asserts never go into the test suite; this is the place.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, '.work', 'bench')
IMAGE = os.environ.get('JADA_TEST_IMAGE', 'localhost/jada-agent-systemd:bookworm')
SETTLE_SECONDS = 2
# Tasks that never reach a managed host: they run in the controller process or on the controller.
CONTROLLER_ACTIONS = {
    'debug', 'set_fact', 'assert', 'fail', 'meta', 'include_tasks', 'import_tasks', 'include_role', 'import_role',
    'validate_argument_spec', 'group_by', 'write_report', 'drift_report', 'lightsail_instance_info',
    'ec2_instance_info',
}


def run(command, env=None, check=True):
    result = subprocess.run(command, cwd=ROOT, env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                            check=False)
    if check and result.returncode != 0:
        sys.exit('%s failed (%d):\n%s\n%s' % (
            ' '.join(command), result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
    return result


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_fraction(seconds=1.0):
    """How busy the machine's CPUs were over the next ``seconds`` (0..1), from /proc/stat."""
    def sample():
        with open('/proc/stat') as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]
    total, idle = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    return 1 - (idle_after - idle) / max(1, total_after - total)


def settle(limit=30):
    """Wait (at most ``limit`` seconds) for a quiet second: agents starting after the converge, or the last run's
    stragglers, would otherwise be measured as the controller's cost."""
    deadline = time.monotonic() + limit
    while busy_fraction() > 0.25 and time.monotonic() < deadline:
        pass


def timed(command, env=None):
    """(wall seconds, result, CPU seconds of the command's whole process tree, every descendant having been waited for)."""
    cpu = children_cpu()
    started = time.monotonic()
    result = run(command, env)
    return time.monotonic() - started, result, children_cpu() - cpu


def container(index):
    return 'jada-bench-%d' % index


def start_containers(count):
    for index in range(1, count + 1):
        name = container(index)
        state = run(['podman', 'container', 'inspect', '--format', '{{.State.Running}}', name], check=False)
        if state.stdout.strip() != 'true':
            run(['podman', 'rm', '-f', name], check=False)
            run(['podman', 'run', '-d', '--name', name, '--hostname', name, '--network', 'none', IMAGE])
    for index in range(1, count + 1):
        for attempt in range(50):  # pylint: disable=unused-variable
            if run(['podman', 'exec', container(index), 'systemctl', 'is-system-running', '--wait'],
                   check=False).returncode in (0, 1):
                break
            time.sleep(0.2)


def write_inventory(count, endpoint_url):
    hosts = dict((container(index), {'ansible_host': container(index),
                                     'jada_agent_lightsail_instance': container(index)})
                 for index in range(1, count + 1))
    inventory = {'jada_orchestrators': {'hosts': hosts, 'vars': {
        'ansible_connection': 'containers.podman.podman',
        'ansible_python_interpreter': '/usr/bin/python3',
        'jada_agent_nofile': 16384,
        'jada_agent_settle_seconds': SETTLE_SECONDS,
        'jada_agent_platform': 'lightsail',
        'jada_agent_aws_region': 'us-east-1',
        'jada_agent_aws_endpoint_url': endpoint_url,
        'jada_agent_aws_access_key': 'AKIABENCHBENCHBENCH0',
        'jada_agent_aws_secret_key': 'bench-endpoint-secret',
        'jada_agent_serial': '100%',
        # The real CLI talks to the Messages API stand-in inside each container (tests/messages_api).
        'jada_agent_environment': {'ANTHROPIC_BASE_URL': 'http://127.0.0.1:8765',
                                      'ANTHROPIC_API_KEY': 'sk-ant-bench-placeholder',
                                      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC': '1'},
        'jada_agent_cli_cache_dir': os.path.join(WORK, '..', 'cache', 'claude-code'),
    }}}
    path = os.path.join(WORK, 'inventory.json')
    with open(path, 'w') as handle:
        json.dump(inventory, handle)
    return path


def start_endpoint(count):
    scenario = {'region': 'us-east-1', 'instances': dict(
        (container(index), {'states': ['running'], 'public_ip': '203.0.113.%d' % (20 + index)})
        for index in range(1, count + 1))}
    scenario_path = os.path.join(WORK, 'lightsail-scenario.json')
    port_path = os.path.join(WORK, 'lightsail.port')
    with open(scenario_path, 'w') as handle:
        json.dump(scenario, handle)
    if os.path.exists(port_path):
        os.unlink(port_path)
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, 'tests', 'lightsail_endpoint', 'server.py'),
                                '--port', '0', '--quiet', '--scenario', scenario_path, '--port-file', port_path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for attempt in range(100):  # pylint: disable=unused-variable
        if os.path.exists(port_path) and open(port_path).read().strip():
            return process, 'http://127.0.0.1:%s' % open(port_path).read().strip()
        time.sleep(0.1)
    sys.exit('the local Lightsail endpoint did not start')


def json_run(playbook, inventory, limit, *extra):
    command = ['ansible-playbook', '-i', inventory, '-l', limit, playbook] + list(extra)
    seconds, result, cpu = timed(command, env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json'})
    return seconds, json.loads(result.stdout), cpu


def executions(report):
    """Remote module executions per host: non-skipped results of tasks that run a module on the host."""
    counts = {}
    for play in report['plays']:
        for task in play['tasks']:
            for host, result in task['hosts'].items():
                action = result.get('action', '').rsplit('.', 1)[-1]
                if host == 'localhost' or action in CONTROLLER_ACTIONS or result.get('skipped'):
                    continue
                items = result.get('results')
                counts[host] = counts.get(host, 0) + (
                    len([item for item in items if not item.get('skipped')]) if items else 1)
    return counts


def changed(report):
    return sum(stats.get('changed', 0) for host, stats in report['stats'].items() if host != 'localhost')


def service_runs(count):
    return [run(['podman', 'exec', container(index), 'systemctl', 'show', '-p',
                 'NRestarts,ActiveEnterTimestamp,MainPID', 'jada-agent']).stdout for index in range(1, count + 1)]


def restart_window(report):
    started = ended = None
    for play in report['plays']:
        for task in play['tasks']:
            name = task['task']['name']
            if name.endswith('Restart and verify the agent service'):
                started, ended = task['task']['duration']['start'], task['task']['duration']['end']
    if not (started and ended):
        return None
    return (parse_time(ended) - parse_time(started)).total_seconds()


def parse_time(text):
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def median(values):
    return statistics.median(values)


def ratios(runs, yardstick):
    """The wall time of each round's run over the same round's yardstick, in round order."""
    return [run[0] / base[0] for run, base in zip(runs, yardstick)]


def spread(values):
    """'1.23x (1.19-1.31)': the median and the range of a list of ratios."""
    return '%.2fx (%.2f-%.2f)' % (median(values), min(values), max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--sizes', default='1,4,8')
    parser.add_argument('--keep', action='store_true', help='keep the containers afterwards')
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(',')]
    largest = max(sizes)
    os.makedirs(WORK, exist_ok=True)

    start_containers(largest)
    endpoint, url = start_endpoint(largest)
    try:
        inventory = write_inventory(largest, url)
        everyone = 'jada_orchestrators'
        run(['ansible-playbook', '-i', inventory, os.path.join('demo', 'provision.yml')])
        # A real change on one host first: its restart window, then everyone converged.
        change = json_run('upgrade-model.yml', inventory, container(1), '-e', 'jada_agent_model=claude-sonnet-4-5')[1]
        window = restart_window(change)
        run(['ansible-playbook', '-i', inventory, 'upgrade-model.yml'])

        rows = []
        for size in sizes:
            limit = ','.join(container(index) for index in range(1, size + 1))
            runs_before = service_runs(size)
            ping, upgrade, drift = [], [], []
            # Interleaved, each from a quiet machine, so that a burst of load falls on all three alike.
            for attempt in range(options.repeat):
                settle()
                ping.append(timed(['ansible', '-i', inventory, limit, '-m', 'ansible.builtin.ping']))
                settle()
                upgrade.append(json_run('upgrade-model.yml', inventory, limit))
                settle()
                drift.append(json_run(os.path.join('playbooks', 'drift_remediation.yml'), inventory, limit,
                                      '-e', 'jada_agent_drift_report_dir=%s' % os.path.join(WORK, 'drift')))
            restarted = service_runs(size) != runs_before
            rows.append({
                'hosts': size,
                'ping': median(run[0] for run in ping),
                'upgrade': median(run[0] for run in upgrade),
                'drift': median(run[0] for run in drift),
                # Each round's own ratio: a machine that slows down for a while slows a round's ping with its
                # playbooks, so the ratio of one round is steadier than the ratio of two medians.
                'upgrade_ratios': ratios(upgrade, ping),
                'drift_ratios': ratios(drift, ping),
                'ping_cpu': median(run[2] for run in ping) / size,
                'upgrade_cpu': median(run[2] for run in upgrade) / size,
                'drift_cpu': median(run[2] for run in drift) / size,
                'upgrade_changed': sum(changed(run[1]) for run in upgrade),
                'drift_changed': sum(changed(run[1]) for run in drift),
                'restarts': 'yes' if restarted else 'none',
                'upgrade_executions': max(executions(upgrade[0][1]).values()),
                'drift_executions': max(executions(drift[0][1]).values()),
            })
    finally:
        endpoint.terminate()
        if not options.keep:
            for index in range(1, largest + 1):
                run(['podman', 'rm', '-f', container(index)], check=False)

    print('\n## Benchmark: %s, %d cores, %s UTC' % (platform.node(), os.cpu_count(),
                                                    datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M')))
    print('median of %d runs; podman containers on this machine; times in seconds; x ping is the median of each '
          'round\'s ratio (range in brackets)\n' % options.repeat)
    print('| hosts | ping | converged upgrade | x ping | drift report | x ping '
          '| controller CPU s per host (ping / upgrade / drift) | changed | restarts '
          '| module executions per host (upgrade / drift) |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for row in rows:
        print('| %d | %.2f | %.2f | %s | %.2f | %s | %.2f / %.2f / %.2f | %d | %s | %d / %d |' % (
            row['hosts'], row['ping'], row['upgrade'], spread(row['upgrade_ratios']), row['drift'],
            spread(row['drift_ratios']), row['ping_cpu'], row['upgrade_cpu'], row['drift_cpu'],
            row['upgrade_changed'] + row['drift_changed'], row['restarts'],
            row['upgrade_executions'], row['drift_executions']))
    first, last = rows[0], rows[-1]
    growth = (last['upgrade'] / first['upgrade'] - 1) * 100
    print('\nconverged upgrade from %d to %d hosts: %+.0f%% (target: at most +30%%)' % (first['hosts'], last['hosts'], growth))
    if window is not None:
        print('restart window of a real change (restart until verified healthy): %.2f s with a %d s settle window '
              '(target: at most %d s)' % (window, SETTLE_SECONDS, SETTLE_SECONDS + 2))
    verdicts = [
        ('converged upgrade <= 1.5x ping', all(median(row['upgrade_ratios']) <= 1.5 for row in rows)),
        ('drift report <= 1.3x ping', all(median(row['drift_ratios']) <= 1.3 for row in rows)),
        ('1 -> %d hosts <= +30%%' % last['hosts'], growth <= 30),
        ('restart window <= settle + 2 s', window is not None and window <= SETTLE_SECONDS + 2),
        ('converged runs: zero changed, zero restarts',
         all(row['upgrade_changed'] + row['drift_changed'] == 0 and row['restarts'] == 'none' for row in rows)),
    ]
    for name, ok in verdicts:
        print('%-48s %s' % (name, 'met' if ok else 'MISSED'))


if __name__ == '__main__':
    main()
