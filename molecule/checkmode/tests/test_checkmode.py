"""--check reports without changing: nothing on a converged host, the drift on a drifted one."""

import base64
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-checkmode'
testinfra_hosts = ['podman://' + HOST]
SECRET = 'demo-secret-0000-not-a-real-key'
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
PINNED_CLI = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                              'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']


def test_check_mode_on_a_converged_host_changes_nothing(host):
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook('upgrade-model.yml', '--check', '--diff')
    assert run.returncode == 0, run.stdout + run.stderr
    assert jada_molecule.recap(run.stdout, HOST)['changed'] == 0
    assert jada_molecule.state(host) == before


def test_check_mode_reports_drift_and_changes_nothing(host):
    jada_molecule.drift_model(host, REPOSITORY_SETTINGS, 'claude-haiku-4-5')
    before = jada_molecule.state(host)

    run = jada_molecule.run_playbook('upgrade-model.yml', '--check', '--diff')

    assert run.returncode == 0, run.stdout + run.stderr
    assert jada_molecule.recap(run.stdout, HOST)['changed'] >= 1
    assert '-model: "claude-haiku-4-5"' in run.stdout and '+model: "claude-sonnet-4-6"' in run.stdout
    assert SECRET not in run.stdout + run.stderr
    assert jada_molecule.state(host) == before
    assert jada_molecule.model(host, REPOSITORY_SETTINGS) == 'claude-haiku-4-5'


def test_status_shows_the_fleet_table_without_changing_anything(host):
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook('playbooks/status.yml', '--check')
    assert run.returncode == 0, run.stdout + run.stderr
    assert jada_molecule.recap(run.stdout, HOST)['changed'] == 0
    row = [line for line in run.stdout.splitlines() if line.strip().startswith(HOST)][0].split()
    assert 'active/running' in row and '16384' in row
    assert 'claude-sonnet-4-6' in row or 'claude-haiku-4-5' in row
    # The pinned CLI, and the model of the agent's own latest answer (the smoke task after the upgrade).
    assert row[-2:] == ['claude-sonnet-4-6', '16384']
    assert str(PINNED_CLI) in row
    assert SECRET not in run.stdout
    assert jada_molecule.state(host) == before


def test_a_model_outside_the_allowed_list_is_refused_before_any_change(host):
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_model=claude-opus-4-6',
                                     '-e', '{"jada_agent_allowed_models": ["claude-sonnet-4-6", "claude-haiku-4-5"]}')
    assert run.returncode != 0
    assert 'model claude-opus-4-6 is not in jada_agent_allowed_models' in run.stdout
    assert jada_molecule.state(host) == before


def test_a_contradicting_managed_setting_is_refused_before_any_change(host):
    host.check_output('mkdir -p /etc/claude-code && '
                      'echo \'{"model": "claude-haiku-4-5"}\' > /etc/claude-code/managed-settings.json')
    try:
        before = jada_molecule.state(host)
        run = jada_molecule.run_playbook('upgrade-model.yml')
        assert run.returncode != 0
        assert '/etc/claude-code/managed-settings.json sets claude-haiku-4-5' in run.stdout
        assert 'would never take effect' in run.stdout
        assert jada_molecule.state(host) == before
    finally:
        host.check_output('rm -rf /etc/claude-code')


def test_a_model_flag_in_exec_start_that_contradicts_is_refused_before_any_change(host):
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook(
        'upgrade-model.yml',
        '-e', 'jada_agent_exec_start="/opt/jada/bin/claude --dangerously-skip-permissions --model claude-haiku-4-5"')
    assert run.returncode != 0
    assert '--model in jada_agent_exec_start is claude-haiku-4-5' in run.stdout
    assert jada_molecule.state(host) == before


def test_a_settings_file_the_cli_would_skip_is_refused_before_any_change(host):
    local = '/srv/jada/orchestrator/.claude/settings.local.json'
    host.check_output("printf '{\\n  \"model\": \"claude-opus-4-6\",\\n}\\n' > %s" % local)
    before = jada_molecule.state(host)
    try:
        run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_model=claude-opus-4-6')
        after = jada_molecule.state(host)
    finally:
        host.check_output('rm -f %s' % local)
    assert run.returncode != 0
    assert local in run.stdout and 'line 2, column 29' in run.stdout and 'nothing was changed' in run.stdout
    assert after == before


def test_an_env_block_that_would_still_win_is_refused_before_any_change(host):
    user = '/home/jada/.claude/settings.json'
    original = host.file(user).content
    host.check_output("python3 -c \"import json, sys; d = json.load(open(sys.argv[1])); "
                      "d.setdefault('env', {})['ANTHROPIC_MODEL'] = 'claude-haiku-4-5'; "
                      "open(sys.argv[1], 'w').write(json.dumps(d, indent=2))\" %s" % user)
    before = jada_molecule.state(host)
    try:
        run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_model=claude-opus-4-6')
        after = jada_molecule.state(host)
    finally:
        host.check_output("printf '%%s' %s | base64 -d > %s" % (base64.b64encode(original).decode(), user))
    said = ' '.join((run.stdout + run.stderr).split())
    assert run.returncode != 0
    assert 'would request claude-haiku-4-5 from ANTHROPIC_MODEL in the env block of %s' % user in said
    assert SECRET not in run.stdout + run.stderr
    assert after == before


def test_available_models_that_exclude_the_model_are_refused_before_any_change(host):
    host.check_output('mkdir -p /etc/claude-code && '
                      'echo \'{"availableModels": ["claude-sonnet-4-6"]}\' > /etc/claude-code/managed-settings.json')
    try:
        before = jada_molecule.state(host)
        run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_model=claude-opus-4-6')
        after = jada_molecule.state(host)
    finally:
        host.check_output('rm -rf /etc/claude-code')
    said = ' '.join((run.stdout + run.stderr).split())
    assert run.returncode != 0
    assert 'is not in availableModels (claude-sonnet-4-6)' in said and 'Nothing was changed on any host' in said
    assert after == before


def test_an_alias_is_resolved_warned_about_and_checked_against_the_allowed_list(host):
    before = jada_molecule.state(host)
    check = jada_molecule.run_playbook('upgrade-model.yml', '--check', '-e', 'jada_agent_model=sonnet')
    refused = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_model=sonnet',
                                         '-e', '{"jada_agent_allowed_models": ["sonnet", "claude-sonnet-4-6"]}')
    assert check.returncode == 0, check.stdout
    # Which ID the alias requests is the CLI's business (the conformance suite asks it); here: that it is said.
    assert 'alias "sonnet" requests claude-sonnet-' in ' '.join(check.stdout.split())
    assert refused.returncode != 0
    assert 'jada_agent_allowed_models does not list claude-sonnet-' in ' '.join((refused.stdout + refused.stderr).split())
    assert jada_molecule.state(host) == before
