"""The older ansible-core releases meta/runtime.yml claims (requires_ansible), each run for real.

For each version (default: 2.17 and 2.18), in a systemd container of its own and with that version's
ansible-playbook from .work/venvs/core-<minor> (hacking/core-venvs.sh builds them, cached by recipe):
provision the demo orchestrator on Haiku, run the upgrade (changing, then converged), drift the model by hand,
run `--check --diff` (reports the change, touches nothing), the drift report (fails, names the drift), the upgrade
again (fixes it) and the drift report again (passes). The container is removed at the end.

    python hacking/compat.py [2.17 2.18]
Exit status 0 when every step of every version did what it should.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get('JADA_WORK', os.path.join(ROOT, '.work'))
IMAGE = os.environ.get('JADA_TEST_IMAGE', 'localhost/jada-agent-systemd:bookworm')
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
OLD, NEW = 'claude-haiku-4-5', 'claude-sonnet-4-6'
GROUP_VARS = {
    'ansible_connection': 'containers.podman.podman',
    'ansible_python_interpreter': '/usr/bin/python3',
    'jada_agent_environment': {'ANTHROPIC_BASE_URL': 'http://127.0.0.1:8765',
                               'ANTHROPIC_API_KEY': 'sk-ant-test-placeholder',
                               'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC': '1'},
    'jada_agent_cli_cache_dir': os.path.join(WORK, 'cache', 'claude-code'),
    'jada_demo_initial_claude_code_version': os.environ.get('JADA_PREVIOUS_CLAUDE_CODE_VERSION', '2.1.327'),
    'jada_agent_nofile': 16384,
    'jada_agent_settle_seconds': 3,
}


class Failed(Exception):
    pass


def podman(*argv, check=True):
    done = subprocess.run(['podman'] + list(argv), capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise Failed('podman %s: %s' % (' '.join(argv[:3]), done.stderr.strip()))
    return done.stdout.strip()


def recap(output, host):
    for line in output.splitlines():
        if line.startswith(host + ' ') and 'ok=' in line:
            return dict((key, int(value)) for key, value in
                        (field.split('=') for field in line.split(':', 1)[1].split()))
    return {}


class Version(object):
    def __init__(self, minor):
        self.minor = minor
        self.venv = os.path.join(WORK, 'venvs', 'core-' + minor)
        self.host = 'jada-compat-' + minor.replace('.', '-')
        self.dir = os.path.join(WORK, 'compat', minor)
        self.inventory = os.path.join(self.dir, 'inventory.yml')
        self.steps = []
        self.core = None

    def version(self):
        return subprocess.run([os.path.join(self.venv, 'bin', 'ansible-playbook'), '--version'], capture_output=True,
                              text=True, check=True).stdout.splitlines()[0]

    def playbook(self, name, playbook, *args):
        """One ansible-playbook run with this version; its log kept in .work/compat/<minor>/<name>.log."""
        env = dict(os.environ, PATH=os.path.join(self.venv, 'bin') + os.pathsep + os.environ['PATH'],
                   ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_COLLECTIONS_PATH=collections_path())
        started = time.monotonic()
        done = subprocess.run(['ansible-playbook', '-i', self.inventory, os.path.join(ROOT, playbook)] + list(args),
                              env=env, capture_output=True, text=True, check=False, timeout=900)
        with open(os.path.join(self.dir, name + '.log'), 'w') as handle:
            handle.write(done.stdout + done.stderr)
        counters = recap(done.stdout, self.host)
        self.steps.append((name, done.returncode, counters.get('changed'), time.monotonic() - started))
        return done.returncode, counters, done.stdout + done.stderr

    def expect(self, name, condition, output):
        if not condition:
            raise Failed('ansible-core %s, %s: not as expected; the end of its log (.work/compat/%s/%s.log):\n%s'
                         % (self.minor, name, self.minor, name, output[-2500:]))

    def model(self):
        return json.loads(podman('exec', self.host, 'cat', REPOSITORY_SETTINGS))['model']

    def digest(self):
        return podman('exec', self.host, 'sha256sum', REPOSITORY_SETTINGS)

    def drift_report(self, name):
        with tempfile.TemporaryDirectory() as report_dir:
            rc, counters, output = self.playbook(name, 'playbooks/drift_remediation.yml',
                                                 '-e', 'jada_agent_drift_report_dir=' + report_dir)
            with open(os.path.join(report_dir, 'latest.json')) as handle:
                report = json.load(handle)
        return rc, counters, output, report

    def run(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.inventory, 'w') as handle:
            json.dump({'jada_orchestrators': {'hosts': {self.host: {}}, 'vars': GROUP_VARS}}, handle, indent=1)
        podman('rm', '--force', '--time', '2', self.host, check=False)
        podman('run', '--detach', '--name', self.host, '--hostname', 'jada-agent', '--network', 'none', IMAGE,
               '/sbin/init')
        try:
            for dummy in range(30):
                if podman('exec', self.host, 'systemctl', 'is-system-running', check=False) in ('running', 'degraded'):
                    break
                time.sleep(1)
            self.core = self.version()
            rc, counters, output = self.playbook('provision', 'demo/provision.yml')
            self.expect('provision', rc == 0 and self.model() == OLD, output)
            rc, counters, output = self.playbook('upgrade', 'upgrade-model.yml')
            self.expect('upgrade', rc == 0 and counters.get('changed', 0) > 0 and self.model() == NEW, output)
            rc, counters, output = self.playbook('converged', 'upgrade-model.yml')
            self.expect('converged', rc == 0 and counters.get('changed') == 0, output)
            podman('exec', self.host, 'sed', '-i', '0,/"model": "%s"/s//"model": "%s"/' % (NEW, OLD),
                   REPOSITORY_SETTINGS)
            before = self.digest()
            rc, counters, output = self.playbook('check', 'upgrade-model.yml', '--check', '--diff')
            # The diff shows the model moving back, and nothing is written.
            self.expect('check', rc == 0 and counters.get('changed', 0) > 0 and self.digest() == before
                        and OLD in output and NEW in output, output)
            rc, counters, output, report = self.drift_report('drift-report')
            self.expect('drift-report', rc != 0 and self.host in json.dumps(report) and self.digest() == before,
                        output)
            rc, counters, output = self.playbook('fix', 'upgrade-model.yml')
            self.expect('fix', rc == 0 and counters.get('changed', 0) > 0 and self.model() == NEW, output)
            rc, counters, output, report = self.drift_report('drift-report-after-fix')
            self.expect('drift-report-after-fix', rc == 0, output)
        finally:
            podman('rm', '--force', '--time', '2', self.host, check=False)


def collections_path():
    return subprocess.run(['bash', os.path.join(ROOT, 'hacking', 'core-venvs.sh'), '--collections-path'],
                          capture_output=True, text=True, check=True).stdout.strip()


def run_version(minor):
    """(the version's steps, why it failed or None)."""
    version = Version(minor)
    try:
        version.run()
    except (Failed, subprocess.SubprocessError, OSError, ValueError) as exc:
        return version, str(exc)
    return version, None


def main(argv):
    minors = argv or ['2.17', '2.18']
    subprocess.run(['bash', os.path.join(ROOT, 'hacking', 'core-venvs.sh')] + minors, check=True)
    failed = []
    # Side by side, each in its own container: most of a run is waiting on the hosts (restarts, settle windows,
    # the agent's answers), not on the controller.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(minors)) as pool:
        for version, why in pool.map(run_version, minors):
            print('ansible-core %s (%s)' % (version.minor, version.core))
            for name, rc, changed, seconds in version.steps:
                print('  %-24s rc=%-3s changed=%-4s %5.1f s' % (name, rc, changed, seconds))
            if why:
                failed.append(version.minor)
                print('FAILED: %s' % why)
    print('ansible-core %s: %s' % (', '.join(minors), 'every step as expected' if not failed else
                                   'failed on ' + ', '.join(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
