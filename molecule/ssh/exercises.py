"""The SSH scenario's side effects: runs over the production connection, counted and checked.

Each exercise puts back what it changed on the host (sudoers, host keys) before it returns.
"""

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-ssh'
PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
INVENTORY = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE'])
HOST_KEYS_BACKUP = '/root/jada-molecule-host-keys'


def podman(command):
    """Root in the container without SSH: how the test changes what SSH must then cope with."""
    return subprocess.run(['podman', 'exec', HOST, 'sh', '-c', command], capture_output=True, text=True, check=True)


def plain_env(**extra):
    """Molecule forces colour for its own steps; the records are read as text."""
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
                ANSIBLE_FORCE_COLOR='0', **extra)


def on_a_new_connection(playbook, *args):
    """ansible-playbook with an SSH connection of its own (a new ControlMaster), so opening it counts too."""
    with tempfile.TemporaryDirectory() as control_dir:
        return subprocess.run(['ansible-playbook', '-i', INVENTORY, os.path.join(PROJECT, playbook)] + list(args),
                              env=plain_env(ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir), capture_output=True, text=True,
                              check=False, timeout=600)


def ssh_commands(output):
    """The ssh processes Ansible started, one line each under -vvv."""
    return [line for line in output.splitlines() if 'SSH: EXEC ssh ' in line]


def a_converged_run_over_ssh():
    """upgrade-model.yml on the converged host, counted from Ansible's own -vvv trace."""
    run = on_a_new_connection('upgrade-model.yml', '-vvv')
    # Both streams: Molecule sets ANSIBLE_VERBOSE_TO_STDERR.
    commands = ssh_commands(run.stdout + run.stderr)
    return {'rc': run.returncode, 'recap': jada_molecule.recap(run.stdout, HOST), 'ssh_commands': len(commands),
            'pipelined': all('sudo' in line and 'python3' in line for line in commands),
            'known_hosts': [line for line in commands if 'UserKnownHostsFile=' in line and
                            'StrictHostKeyChecking=no' not in line] == commands}


def a_drift_check_over_ssh():
    with tempfile.TemporaryDirectory() as report_dir:
        run = jada_molecule.play('playbooks/drift_remediation.yml', '-e', 'jada_agent_drift_report_dir=' + report_dir)
        reports = sorted(os.listdir(report_dir))
    return {'rc': run['rc'], 'stats': run['report'].get('stats', {}), 'reports': reports,
            'failures': jada_molecule.failures(run['report'], HOST)}


def runner(private_dir, *cmdline):
    """upgrade-model.yml through ansible-runner, as AWX runs a job template; a new SSH connection of its own."""
    argv = ['ansible-runner', 'run', private_dir, '--project-dir', PROJECT, '--inventory', INVENTORY,
            '-p', 'upgrade-model.yml']
    if cmdline:
        argv.append('--cmdline=' + ' '.join(shlex.quote(word) for word in cmdline))
    env = plain_env(ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(private_dir, 'cp'))
    # ansible-runner sets ANSIBLE_HOST_KEY_CHECKING=False only when the variable is not set already.
    env.pop('ANSIBLE_HOST_KEY_CHECKING', None)
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=600)
    status = None
    for directory, dummy, files in os.walk(os.path.join(private_dir, 'artifacts')):
        if 'status' in files:
            with open(os.path.join(directory, 'status')) as handle:
                status = handle.read().strip()
    return {'status': status, 'rc': run.returncode, 'recap': jada_molecule.recap(run.stdout, HOST),
            'host_key_changed': 'REMOTE HOST IDENTIFICATION HAS CHANGED' in run.stdout,
            'verification_failed': 'Host key verification failed' in run.stdout,
            'output': run.stdout}


@contextlib.contextmanager
def another_host_key():
    """The host's keys replaced (a new host behind the same address) until the block ends; then the originals."""
    podman('mkdir -p {0} && cp -a /etc/ssh/ssh_host_* {0}/'.format(HOST_KEYS_BACKUP))
    try:
        podman('rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh')
        yield
    finally:
        podman('rm -f /etc/ssh/ssh_host_* && cp -a {0}/ssh_host_* /etc/ssh/ && rm -rf {0} && systemctl restart ssh'
               .format(HOST_KEYS_BACKUP))


def a_changed_host_key_under_ansible_runner():
    """The upgrade under ansible-runner against a host with another key: refused by the inventory's
    ansible_host_key_checking, and, to show what that variable holds back, accepted when an extra var switches it
    off. With the original keys back, the runner reaches the host again."""
    record = {}
    with another_host_key():
        with tempfile.TemporaryDirectory() as private_dir:
            record['inventory checks'] = runner(private_dir)
        with tempfile.TemporaryDirectory() as private_dir:
            record['checking switched off'] = runner(private_dir, '-e', 'ansible_host_key_checking=false')
        record['status'] = status_on_a_new_connection()
    with tempfile.TemporaryDirectory() as private_dir:
        record['the right key'] = runner(private_dir)
    return record


def execution_environment():
    """The image execution-environment.yml makes, built offline by hacking/ee.sh (not rebuilt when unchanged)."""
    build = subprocess.run(['bash', os.path.join(PROJECT, 'hacking', 'ee.sh')], capture_output=True, text=True,
                           check=False, timeout=1200)
    if build.returncode:
        raise RuntimeError('hacking/ee.sh failed:\n' + build.stderr[-3000:])
    return build.stdout.strip()


# The playbook of an AWX project that runs the collection's rollout: the project holds nothing else, so the
# collection can only come from the image.
EE_PROJECT_PLAYBOOK = """- name: The rollout of the jada.agent collection the execution environment holds
  ansible.builtin.import_playbook: jada.agent.upgrade_model
"""


def runner_in(image, private_dir):
    """upgrade-model.yml inside the execution environment, through ansible-runner --process-isolation (podman), as
    AWX runs a job template: a private data directory with the scenario's inventory, and the scenario's key,
    known_hosts and CLI package cache mounted at the paths that inventory names. The container runs as root, who
    owns the private data directory and the key here (AWX's rootless podman maps its own user the same way); it
    shares the host's network to reach sshd's published port."""
    shutil.copytree(INVENTORY, os.path.join(private_dir, 'inventory'))
    os.makedirs(os.path.join(private_dir, 'project'))
    with open(os.path.join(private_dir, 'project', 'upgrade.yml'), 'w') as handle:
        handle.write(EE_PROJECT_PLAYBOOK)
    os.makedirs(os.path.join(private_dir, 'env'))
    with open(os.path.join(private_dir, 'env', 'envvars'), 'w') as handle:
        json.dump({'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0'}, handle)
    ssh_dir = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'ssh')
    cache_dir = os.path.join(os.environ['JADA_WORK'], 'cache', 'claude-code')
    argv = ['ansible-runner', 'run', private_dir, '-p', 'upgrade.yml', '--process-isolation',
            '--process-isolation-executable', 'podman', '--container-image', image,
            '--container-option=--network=host', '--container-option=--user=0',
            '--container-volume-mount', '%s:%s:ro' % (ssh_dir, ssh_dir),
            '--container-volume-mount', '%s:%s' % (cache_dir, cache_dir)]
    env = plain_env()
    env.pop('ANSIBLE_HOST_KEY_CHECKING', None)
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=900)
    artifacts = {}
    for directory, dummy, files in os.walk(os.path.join(private_dir, 'artifacts')):
        for name in ('status', 'command'):
            if name in files:
                with open(os.path.join(directory, name)) as handle:
                    artifacts[name] = handle.read().strip()
    command = json.loads(artifacts.get('command', '{}'))
    return {'status': artifacts.get('status'), 'rc': run.returncode, 'recap': jada_molecule.recap(run.stdout, HOST),
            'command': command.get('command', []),
            'host_key_checking_env': command.get('env', {}).get('ANSIBLE_HOST_KEY_CHECKING'),
            'host_key_changed': 'REMOTE HOST IDENTIFICATION HAS CHANGED' in run.stdout,
            'verification_failed': 'Host key verification failed' in run.stdout,
            'output': run.stdout[-4000:]}


def the_upgrade_in_an_execution_environment():
    """The repository's settings file drifted back to Haiku by hand, then the rollout inside the execution
    environment: it changes the host, a second run finds it converged, and against a changed host key it is refused
    with nothing changed."""
    image = execution_environment()
    target = testinfra.get_host('podman://' + HOST)
    record = {'image': image}
    with jada_molecule.restored(target, *jada_molecule.SETTINGS_FILES):
        jada_molecule.drift_model(target, jada_molecule.SETTINGS_FILES[1], 'claude-haiku-4-5')
        record['drifted'] = jada_molecule.model(target, jada_molecule.SETTINGS_FILES[1])
        with tempfile.TemporaryDirectory() as private_dir:
            record['changing'] = runner_in(image, private_dir)
        record['after'] = [jada_molecule.model(target, path) for path in jada_molecule.SETTINGS_FILES]
        with tempfile.TemporaryDirectory() as private_dir:
            record['converged'] = runner_in(image, private_dir)
        before = jada_molecule.state(target)
        with another_host_key():
            with tempfile.TemporaryDirectory() as private_dir:
                record['another host key'] = runner_in(image, private_dir)
        record['untouched'] = jada_molecule.state(target) == before
    return record


REQUIRETTY = '/etc/sudoers.d/50-requiretty'


def status_on_a_new_connection():
    run = on_a_new_connection('playbooks/status.yml')
    return {'rc': run.returncode, 'recap': jada_molecule.recap(run.stdout, HOST), 'output': run.stdout[-3000:]}


def requiretty_in_sudoers():
    """`Defaults requiretty` breaks pipelined become; the fix README gives (`Defaults:ubuntu !requiretty`) mends it."""
    record = {}
    try:
        podman("printf 'Defaults requiretty\\n' > {0} && chmod 0440 {0}".format(REQUIRETTY))
        record['requiretty'] = status_on_a_new_connection()
        podman("printf 'Defaults requiretty\\nDefaults:ubuntu !requiretty\\n' > {0}".format(REQUIRETTY))
        record['exempted'] = status_on_a_new_connection()
    finally:
        podman('rm -f ' + REQUIRETTY)
    return record


EXERCISES = [a_converged_run_over_ssh, a_drift_check_over_ssh, a_changed_host_key_under_ansible_runner,
             requiretty_in_sudoers, the_upgrade_in_an_execution_environment]
