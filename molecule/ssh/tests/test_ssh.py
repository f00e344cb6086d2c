"""Checks the orchestrator the SSH scenario upgraded, and what its exercises recorded (exercises.py); verify only
looks."""

import json
import os
import pathlib
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

testinfra_hosts = ['podman://jada-molecule-ssh']
PROJECT = pathlib.Path(os.environ['MOLECULE_PROJECT_DIRECTORY'])


@pytest.mark.parametrize('path', jada_molecule.SETTINGS_FILES)
def test_the_upgrade_over_ssh_moved_every_settings_file_to_sonnet(host, path):
    assert json.loads(host.file(path).content_string)['model'] == 'claude-sonnet-4-6'


def test_the_agent_runs_on_the_pinned_cli(host):
    pinned = yaml.safe_load((PROJECT / 'roles/orchestrator/defaults/main.yml').read_text())['jada_agent_cli_version']
    assert host.service('jada-agent').is_running
    assert host.check_output(jada_molecule.RUNNING_EXE) == '/opt/jada/lib/claude-code/%s-linux-x64/claude' % pinned


def test_the_controller_logged_in_as_ubuntu_and_became_root_with_sudo(host):
    journal = host.check_output('journalctl --no-pager -o cat -t sshd -t sudo')
    assert 'Accepted publickey for ubuntu' in journal
    assert 'ubuntu : PWD=' in journal and 'USER=root' in journal


def test_a_converged_run_is_one_pipelined_ssh_command_with_the_host_key_checked():
    record = jada_molecule.results('a_converged_run_over_ssh')
    assert record['rc'] == 0 and record['recap']['changed'] == 0
    assert record['ssh_commands'] == 1
    assert record['pipelined'] and record['known_hosts']


def test_the_drift_check_over_ssh_finds_no_drift_and_writes_its_report():
    record = jada_molecule.results('a_drift_check_over_ssh')
    assert record['rc'] == 0 and record['failures'] == []
    assert 'latest.json' in record['reports'] and len(record['reports']) == 2


def test_a_changed_host_key_is_refused_under_ansible_runner_and_nothing_changes():
    refused = jada_molecule.results('a_changed_host_key_under_ansible_runner')['inventory checks']
    assert refused['status'] == 'failed' and refused['rc'] != 0
    assert refused['verification_failed'] and refused['host_key_changed']
    assert refused['recap']['changed'] == 0
    # The run's own failure names the host and ssh's reason, not a bare "Broken pipe".
    assert 'jada-molecule-ssh could not be read' in refused['output']
    assert 'Nothing was changed on any host' in refused['output']


def test_status_shows_the_host_it_could_not_read_and_fails():
    status = jada_molecule.results('a_changed_host_key_under_ansible_runner')['status']
    assert status['rc'] != 0 and status['recap']['failed'] == 1
    assert 'Not read: jada-molecule-ssh (unreachable' in status['output']
    assert any(line.split()[:1] == ['jada-molecule-ssh'] and 'unreachable' in line.split()
               for line in status['output'].splitlines())


def test_only_the_inventory_variable_stood_between_the_runner_and_the_changed_host():
    # The same run with ansible_host_key_checking switched off by an extra var: ansible-runner's
    # ANSIBLE_HOST_KEY_CHECKING=False then applies, and ssh connects to the host with the unknown key.
    accepted = jada_molecule.results('a_changed_host_key_under_ansible_runner')['checking switched off']
    assert accepted['status'] == 'successful' and accepted['recap']['unreachable'] == 0
    assert accepted['recap']['ok'] > 0 and not accepted['verification_failed']


def test_with_its_own_key_back_the_host_is_reached_under_ansible_runner_again():
    record = jada_molecule.results('a_changed_host_key_under_ansible_runner')['the right key']
    assert record['status'] == 'successful' and record['recap']['failed'] == 0


def test_the_production_inventory_checks_host_keys_with_the_variable_this_scenario_proves():
    group_vars = yaml.safe_load((PROJECT / 'inventories/production/group_vars/jada_orchestrators.yml').read_text())
    assert group_vars['ansible_host_key_checking'] is True


def test_requiretty_breaks_pipelined_become_and_the_exemption_readme_gives_mends_it():
    record = jada_molecule.results('requiretty_in_sudoers')
    assert record['requiretty']['rc'] != 0 and record['requiretty']['recap']['failed'] == 1
    assert 'you must have a tty to run sudo' in record['requiretty']['output']
    assert record['exempted']['rc'] == 0 and record['exempted']['recap']['failed'] == 0
    readme = (PROJECT / 'README.md').read_text()
    assert 'Defaults:ubuntu !requiretty' in readme


def ee_record():
    return jada_molecule.results('the_upgrade_in_an_execution_environment')


def test_the_rollout_inside_the_execution_environment_changes_the_drifted_host_over_ssh():
    record = ee_record()
    assert record['drifted'] == 'claude-haiku-4-5'
    changing = record['changing']
    assert changing['status'] == 'successful' and changing['rc'] == 0
    assert changing['recap']['changed'] > 0 and changing['recap']['failed'] == 0
    assert record['after'] == ['claude-sonnet-4-6', 'claude-sonnet-4-6']


def test_ansible_runner_ran_it_in_the_built_image_with_podman():
    record = ee_record()
    command = record['changing']['command']
    assert command[:2] == ['podman', 'run'] and record['image'] in command
    assert record['image'] == 'localhost/jada-agent-ee:%s' % yaml.safe_load((PROJECT / 'galaxy.yml').read_text())[
        'version']
    # The playbook is the collection's, installed in the image: the project mounted beside it holds nothing else.
    assert command[command.index(record['image']) + 1:][0] == 'ansible-playbook'


def test_the_second_run_inside_the_execution_environment_is_converged():
    converged = ee_record()['converged']
    assert converged['status'] == 'successful' and converged['recap']['changed'] == 0


def test_the_execution_environment_refuses_a_changed_host_key_although_the_runner_switched_checking_off():
    refused = ee_record()['another host key']
    assert refused['host_key_checking_env'] == 'False'
    assert refused['status'] == 'failed' and refused['verification_failed'] and refused['host_key_changed']
    assert refused['recap']['changed'] == 0
    assert 'jada-molecule-ssh could not be read' in refused['output']
    assert ee_record()['untouched']


def test_the_exercises_put_the_host_back(host):
    assert not host.file('/etc/sudoers.d/50-requiretty').exists
    assert not host.file('/root/jada-molecule-host-keys').exists
