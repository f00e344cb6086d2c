"""The SSH scenario's side effects: runs over the production connection, counted and checked.

Each exercise puts back what it changed on the host (sudoers, host keys) before it returns.
"""

import os
import shlex
import subprocess
import sys
import tempfile

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


def a_changed_host_key_under_ansible_runner():
    """The host's keys replaced (a new host behind the same address), then the upgrade under ansible-runner: refused
    by the inventory's ansible_host_key_checking, and, to show what that variable holds back, accepted when an extra
    var switches it off. The original keys go back, and the runner reaches the host again."""
    record = {}
    podman('mkdir -p {0} && cp -a /etc/ssh/ssh_host_* {0}/'.format(HOST_KEYS_BACKUP))
    try:
        podman('rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh')
        with tempfile.TemporaryDirectory() as private_dir:
            record['inventory checks'] = runner(private_dir)
        with tempfile.TemporaryDirectory() as private_dir:
            record['checking switched off'] = runner(private_dir, '-e', 'ansible_host_key_checking=false')
        record['status'] = status_on_a_new_connection()
    finally:
        podman('rm -f /etc/ssh/ssh_host_* && cp -a {0}/ssh_host_* /etc/ssh/ && rm -rf {0} && systemctl restart ssh'
               .format(HOST_KEYS_BACKUP))
    with tempfile.TemporaryDirectory() as private_dir:
        record['the right key'] = runner(private_dir)
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
             requiretty_in_sudoers]
