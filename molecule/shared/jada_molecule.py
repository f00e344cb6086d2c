"""Helpers shared by the Molecule scenarios' testinfra tests.

The tests run the project's playbooks the way a user does (ansible-playbook against the scenario's
inventory) and compare hosts before and after, to prove what changed and what was left alone.
"""

import json
import os
import socket
import subprocess
import time
import urllib.request

PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
SETTINGS_FILES = ('/home/jada/.claude/settings.json', '/srv/jada/orchestrator/.claude/settings.json')
UNIT = '/etc/systemd/system/jada-agent.service'
DROPIN_DIR = UNIT + '.d'


def run_playbook(playbook, *args):
    """Run a playbook of the project against the scenario's instances; returns the CompletedProcess."""
    inventory = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    return subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(PROJECT, playbook)] + list(args),
                          env=env, capture_output=True, text=True, check=False, timeout=600)


def recap(output, host):
    """The PLAY RECAP counters of one host, e.g. {'ok': 5, 'changed': 0, ...}."""
    for line in output.splitlines():
        if line.startswith(host + ' ') and 'ok=' in line:
            return dict((key, int(value)) for key, value in
                        (field.split('=') for field in line.split(':', 1)[1].split()))
    raise AssertionError('no PLAY RECAP line for %s in:\n%s' % (host, output))


def state(host):
    """What must not move on a host that a run leaves alone: file digests and the service's run."""
    files = list(SETTINGS_FILES) + [UNIT]
    digests = host.check_output('sha256sum %s %s/* 2>/dev/null || true' % (' '.join(files), DROPIN_DIR))
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
