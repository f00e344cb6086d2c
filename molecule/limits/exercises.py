"""The limits scenario's side effects: requests the kernel or the service manager cannot grant, each refused or
rolled back; every case records what it saw, and the host ends as the converge left it."""

import os
import sys

import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-limits'


def host():
    return testinfra.get_host('podman://' + HOST)


def upgrade_with(nofile):
    target = host()
    before = jada_molecule.state(target)
    run = jada_molecule.play('upgrade-model.yml', '-e', 'jada_agent_nofile=%s' % nofile)
    reads = jada_molecule.host_reads(run['report'], HOST)
    return {'rc': run['rc'], 'read': reads[0] if reads else None, 'failures': jada_molecule.failures(run['report'], HOST),
            'health': jada_molecule.task_results(run['report'], HOST, action='jada.agent.agent_service_restart_verify'),
            'before': before, 'after': jada_molecule.state(target), 'nofile_after': jada_molecule.effective_nofile(target),
            'running_after': target.service('jada-agent').is_running}


def a_limit_above_the_ceiling():
    return upgrade_with(2147483646)


def a_limit_above_nr_open():
    return upgrade_with(int(host().check_output('cat /proc/sys/fs/nr_open')) + 1)


def a_limit_above_what_the_service_manager_can_grant():
    # The hard RLIMIT_NOFILE of the container's systemd: nothing above it can be applied here.
    hard = int(host().check_output('grep "Max open files" /proc/1/limits').split()[4])
    nr_open = int(host().check_output('cat /proc/sys/fs/nr_open'))
    record = upgrade_with(hard + 4096) if hard + 4096 <= nr_open else {}
    record.update(hard=hard, nr_open=nr_open, request=hard + 4096)
    return record


EXERCISES = [
    a_limit_above_the_ceiling,
    a_limit_above_nr_open,
    a_limit_above_what_the_service_manager_can_grant,
]
