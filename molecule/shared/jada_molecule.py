"""Helpers shared by the Molecule scenarios' testinfra tests.

The tests run the project's playbooks the way a user does (ansible-playbook against the scenario's
inventory) and compare hosts before and after, to prove what changed and what was left alone.
"""

import base64
import contextlib
import json
import shlex
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
SETTINGS_FILES = ('/home/jada/.claude/settings.json', '/srv/jada/orchestrator/.claude/settings.json')
UNIT = '/etc/systemd/system/jada-agent.service'
DROPIN_DIR = UNIT + '.d'
SOCKET = '/etc/systemd/system/jada-agent.socket'
ENVIRONMENT_FILE = '/etc/jada/jada-agent.env'
CLI = '/opt/jada/bin/claude'
# The binary the agent's process runs. Root cannot read another user's /proc/<pid>/exe in these containers
# (no CAP_SYS_PTRACE), the service user can.
RUNNING_EXE = 'runuser -u jada -- readlink /proc/$(systemctl show -p MainPID --value jada-agent)/exe'


def run_playbook(playbook, *args):
    """Run a playbook of the project against the scenario's instances; returns the CompletedProcess."""
    inventory = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    return subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(PROJECT, playbook)] + list(args),
                          env=env, capture_output=True, text=True, check=False, timeout=600)


def kill_playbook_when(playbook, reached, *args, timeout=300):
    """Start a playbook and kill -9 its whole process group as soon as ``reached()`` is true; returns whether it was
    killed (False: it ended first). What it started on the hosts may still be running when this returns."""
    inventory = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    process = subprocess.Popen(['ansible-playbook', '-i', inventory, os.path.join(PROJECT, playbook)] + list(args),
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if reached():
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.1)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def play(playbook, *args, meanwhile=None, timeout=600):
    """Run a playbook of the project with the JSON callback: {'rc', 'report' (the callback's JSON), 'stderr'}.
    ``meanwhile``, if given, is called every 0.1 s while the playbook runs, until it returns True: what a user or
    the agent does to a host during a run."""
    inventory = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    with tempfile.TemporaryFile('w+') as stdout, tempfile.TemporaryFile('w+') as stderr:
        process = subprocess.Popen(['ansible-playbook', '-i', inventory, os.path.join(PROJECT, playbook)] + list(args),
                                   env=env, stdout=stdout, stderr=stderr, text=True)
        deadline = time.monotonic() + timeout
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError('%s ran longer than %d s' % (playbook, timeout))
                if meanwhile is not None and meanwhile():
                    meanwhile = None
                time.sleep(0.1 if meanwhile is not None else 0.05)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    try:
        report = json.loads(output)
    except ValueError:
        report = {'unparsed_stdout': output}
    return {'rc': process.returncode, 'report': report, 'stderr': errors}


def task_results(report, host, action=None, name=None):
    """The results one host got from the tasks of a JSON report, in order, filtered by action or task name."""
    found = []
    for play_ in report.get('plays', []):
        for task in play_['tasks']:
            result = task['hosts'].get(host)
            if result is None:
                continue
            if action and result.get('action') != action:
                continue
            if name and not task['task']['name'].endswith(name):
                continue
            # Without the role's prefix ("jada.agent.orchestrator : "): the task as its file names it.
            found.append(dict(result, task=task['task']['name'].split(' : ')[-1]))
    return found


def host_reads(report, host):
    """agent_host_info's results that came from the host: a read refused on the controller (bad input) reached none,
    and its result has no service."""
    return [result for result in task_results(report, host, action='jada.agent.agent_host_info') if 'service' in result]


def failures(report, host):
    """The failed results of one host in a JSON report."""
    return [result for result in task_results(report, host) if result.get('failed')]


def outcome(run):
    """A CompletedProcess as a record for verify."""
    return {'rc': run.returncode, 'stdout': run.stdout, 'stderr': run.stderr}


def results(name):
    """What the side_effect step's exercise ``name`` recorded (molecule/shared/exercise.py)."""
    path = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'results', name + '.json')
    with open(path) as handle:
        recorded = json.load(handle)
    assert 'exercise_error' not in recorded, recorded.get('exercise_error')
    return recorded


def recap(output, host):
    """The PLAY RECAP counters of one host, e.g. {'ok': 5, 'changed': 0, ...}."""
    for line in output.splitlines():
        if line.startswith(host + ' ') and 'ok=' in line:
            return dict((key, int(value)) for key, value in
                        (field.split('=') for field in line.split(':', 1)[1].split()))
    raise AssertionError('no PLAY RECAP line for %s in:\n%s' % (host, output))


def state(host):
    """What must not move on a host that a run leaves alone: file digests and the service's run."""
    files = list(SETTINGS_FILES) + [UNIT, SOCKET, ENVIRONMENT_FILE]
    digests = host.check_output('sha256sum %s %s/* 2>/dev/null; readlink %s || true' % (
        ' '.join(files), DROPIN_DIR, CLI))
    service = host.check_output(
        'systemctl show -p ActiveState,MainPID,NRestarts,InvocationID,ActiveEnterTimestamp jada-agent')
    return {'digests': digests, 'service': service}


def effective_nofile(host):
    pid = host.check_output('systemctl show -p MainPID --value jada-agent')
    line = host.check_output('grep "Max open files" /proc/%s/limits' % pid)
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)


def model(host, path):
    return json.loads(host.file(path).content_string).get('model')


def drift_model(host, path, model):
    """Change the model the way the CLI's /model does: it rewrites the whole file, 2-space indented."""
    host.check_output(
        'python3 -c "import json, sys; data = json.load(open(sys.argv[1])); data[\'model\'] = sys.argv[2]; '
        'open(sys.argv[1], \'w\').write(json.dumps(data, indent=2) + \'\\n\')" %s %s' % (path, model))


@contextlib.contextmanager
def restored(host, *paths):
    """Put the files back byte for byte when the block ends (removing those that did not exist), so a test that
    drifts a host leaves it as it found it whatever the test's order."""
    saved = {}
    for path in paths:
        exists = host.run('test -e %s' % shlex.quote(path)).rc == 0
        saved[path] = base64.b64encode(host.file(path).content).decode() if exists else None
    try:
        yield
    finally:
        for path, content in saved.items():
            if content is None:
                host.check_output('rm -f %s' % shlex.quote(path))
            else:
                host.check_output("printf '%%s' %s | base64 -d > %s" % (content, shlex.quote(path)))


def start_moto_server():
    """A moto_server on a free loopback port, for SSM and Lambda; returns (process, url). Stop it with terminate()."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    url = 'http://127.0.0.1:%d' % port
    process = subprocess.Popen(['moto_server', '-H', '127.0.0.1', '-p', str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + '/moto-api/', timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError('moto_server did not start on %s' % url)


API_DIR = '/var/lib/jada-messages-api'
OUTPUT = '/var/log/jada-agent/output.jsonl'


def script_api(host, scenario):
    """Script the Messages API stand-in of a host (tests/messages_api/server.py reads it on its next request)."""
    host.check_output("printf '%%s\\n' %s > %s/scenario.json.new && mv %s/scenario.json.new %s/scenario.json" % (
        shlex.quote(json.dumps(scenario)), API_DIR, API_DIR, API_DIR))


def api_requests(host):
    """Every request the host's agent sent to the Messages API stand-in, oldest first (model, status, error)."""
    text = host.check_output('cat %s/requests.jsonl 2>/dev/null || true' % API_DIR)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def service_starts(host):
    """How many times systemd started jada-agent since the container booted."""
    journal = host.check_output('journalctl -u jada-agent -o cat --no-pager')
    return sum(1 for line in journal.splitlines() if line.startswith('Started jada-agent.service'))


def ask_agent(name, *args):
    """Submit one task to a host's running agent with jada.agent.agent_task; returns the module's result."""
    inventory = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_NOCOLOR='1')
    run = subprocess.run(['ansible', '-i', inventory, name, '--become', '-m', 'jada.agent.agent_task',
                          '-a', ' '.join(('fail_on_error=false',) + args)],
                         env=env, capture_output=True, text=True, check=False, timeout=300)
    try:
        return json.loads(run.stdout)['plays'][0]['tasks'][0]['hosts'][name]
    except (ValueError, KeyError, IndexError):
        raise AssertionError('ansible -m jada.agent.agent_task gave no result:\n%s\n%s' % (run.stdout, run.stderr))
