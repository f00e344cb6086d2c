"""Checks the demo orchestrator after upgrade-model.yml converged (and ran a second time), and what the side_effect
step (exercises.py) recorded; verify only looks."""

import json
import os
import pathlib
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

testinfra_hosts = ['podman://jada-molecule-default']

SETTINGS_FILES = {
    '/home/jada/.claude/settings.json': 'user-settings.json',
    '/srv/jada/orchestrator/.claude/settings.json': 'repository-settings.json',
}


@pytest.fixture(name='original')
def fixture_original():
    demo_files = pathlib.Path(os.environ['MOLECULE_PROJECT_DIRECTORY']) / 'demo' / 'files'
    return lambda name: (demo_files / name).read_bytes()


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_model_is_sonnet(host, path):
    settings = json.loads(host.file(path).content_string)
    assert settings['model'] == 'claude-sonnet-4-6'


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_only_the_model_bytes_changed(host, original, path):
    before = original(SETTINGS_FILES[path])
    after = host.file(path).content
    assert after == before.replace(b'"model": "claude-haiku-4-5"', b'"model": "claude-sonnet-4-6"', 1)


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_settings_file_stays_private(host, path):
    settings = host.file(path)
    assert settings.user == 'jada'
    assert settings.mode == 0o600


def test_service_was_restarted_once_for_the_upgrade():
    # Started on Haiku by the provisioning, restarted once by the upgrade, and not again by the idempotence run
    # (counted before the side effect restarts it once more).
    assert jada_molecule.results('a_rewrite_the_agent_has_not_read')['starts'][0] == 2


def test_an_agent_older_than_its_settings_is_restarted_once_then_converged():
    record = jada_molecule.results('a_rewrite_the_agent_has_not_read')
    read = record['first']['read']
    assert read['service']['stale_inputs'] == ['/srv/jada/orchestrator/.claude/settings.json']
    assert read['plan']['restart'] == ['the agent started before /srv/jada/orchestrator/.claude/settings.json changed']
    assert record['first']['rc'] == 0 and 'Restart and verify the agent service' in record['first']['changed']
    assert record['after_first']['digests'] == record['before']['digests']
    assert record['after_first']['service'] != record['before']['service']
    assert record['starts'] == [2, 3, 3]
    assert record['second'] == {'rc': 0, 'changed': []}
    assert record['after_second'] == record['after_first']


def test_the_api_was_asked_for_haiku_then_sonnet_only(host):
    asked = [request['model'] for request in jada_molecule.api_requests(host)]
    assert asked, 'the agent never reached the Messages API stand-in'
    last_haiku = max(index for index, model in enumerate(asked) if model == 'claude-haiku-4-5')
    assert set(asked[last_haiku + 1:]) == {'claude-sonnet-4-6'}, asked


def test_the_running_agent_answers_on_sonnet(host):
    answer = jada_molecule.results('a_task_for_the_running_agent')['answer']
    assert answer['is_error'] is False and answer['answered_by'] == ['claude-sonnet-4-6'], answer
    assert jada_molecule.api_requests(host)[-1]['model'] == 'claude-sonnet-4-6'


def test_the_pinned_cli_runs(host):
    version = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                               'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']
    assert host.check_output('/opt/jada/bin/claude --version').startswith(str(version) + ' ')
    argv = host.check_output('cat /proc/$(systemctl show -p MainPID --value jada-agent)/cmdline | tr "\\0" " "')
    assert argv.startswith('/opt/jada/bin/claude -p --input-format stream-json') and '--dangerously-skip-permissions' in argv
    assert host.check_output('ps -o user= -p $(systemctl show -p MainPID --value jada-agent)') == 'jada'


def test_the_cli_moved_from_the_provisioned_version_and_kept_it_for_a_rollback(host):
    pinned = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                              'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']
    previous = os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION']
    assert previous != pinned
    assert host.file('/opt/jada/bin/claude').linked_to == '/opt/jada/lib/claude-code/%s-linux-x64/claude' % pinned
    # The running process is the new binary: the restart happened after the switch.
    exe = host.check_output(jada_molecule.RUNNING_EXE)
    assert exe == '/opt/jada/lib/claude-code/%s-linux-x64/claude' % pinned
    assert host.file('/opt/jada/lib/claude-code/%s-linux-x64/claude' % previous).is_file
    assert not host.file('/opt/jada/lib/claude-code/.anthropic-ai-claude-code-linux-x64-%s.tgz' % pinned).exists


def test_the_autoupdater_is_off(host):
    # /proc/<pid>/environ is closed even to root in these containers (no CAP_SYS_PTRACE); systemd says what it set.
    assert 'DISABLE_AUTOUPDATER=1' in host.check_output('systemctl show -p Environment --value jada-agent').split()


def test_the_environment_file_is_private(host):
    environment = host.file('/etc/jada/jada-agent.env')
    assert environment.user == 'root' and environment.mode == 0o600


def test_service_never_restarted_by_systemd(host):
    assert host.check_output('systemctl show -p NRestarts --value jada-agent') == '0'


def hardening_defaults():
    with open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'roles/orchestrator/defaults/main.yml')) as handle:
        hardening = yaml.safe_load(handle)['jada_agent_hardening']
    return dict((name, ('yes' if value else 'no') if isinstance(value, bool) else str(value))
                for name, value in hardening.items())


@pytest.mark.parametrize('directive', sorted(hardening_defaults()))
def test_the_unit_keeps_each_hardening_directive_this_host_can_apply_and_only_those(host, directive):
    """On bookworm (systemd 252) all of them; on trixie (systemd 257) in an unprivileged container, four are refused.
    The host is asked here again, with a transient unit that runs /bin/true as the service user."""
    value = hardening_defaults()[directive]
    refused = host.run('systemd-run --wait --collect --quiet --service-type=exec -p User=jada -p %s=%s /bin/true'
                       % (directive, value)).rc != 0
    read = jada_molecule.results('a_rewrite_the_agent_has_not_read')['first']['read']
    left_out = dict((item['directive'], item) for item in read['desired_unit']['left_out'])
    unit = host.file('/etc/systemd/system/jada-agent.service').content_string.splitlines()
    assert (directive in left_out) == refused
    assert ('%s=%s' % (directive, value) in unit) == (not refused)
    if refused:
        assert left_out[directive]['warning'] in read['plan']['warnings']


def test_each_rollout_that_changed_the_host_left_one_line_in_the_rollout_history(host):
    defaults = pathlib.Path(os.environ['MOLECULE_PROJECT_DIRECTORY']) / 'roles' / 'orchestrator' / 'defaults' / 'main.yml'
    pinned = yaml.safe_load(defaults.read_text())['jada_agent_cli_version']
    history = host.file('/var/lib/jada-agent/rollouts.jsonl')
    lines = [json.loads(line) for line in history.content_string.splitlines()]
    # The converge moved the model and the CLI; the side effect's rollout only restarted the agent; the runs that
    # found the host converged (idempotence, the side effect's second run) recorded nothing.
    assert [(line['result'], line['from_model'], line['to_model'], line['from_cli_version'], line['to_cli_version'])
            for line in lines] == [
        ('complete', 'claude-haiku-4-5', 'claude-sonnet-4-6', os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION'], pinned),
        ('complete', 'claude-sonnet-4-6', 'claude-sonnet-4-6', pinned, pinned)]
    assert lines[0]['rollout_id'] != lines[1]['rollout_id']
    assert history.mode == 0o644
