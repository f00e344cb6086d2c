# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import os
import time
import types

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.modules import agent_host_info
from ansible_collections.jada.agent.tests.unit.plugins.modules import agent_fixtures
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import (
    EXEC_START,
    FakeCommands,
    FakeProc,
    run_module,
    running_service,
    stopped_service,
    systemctl_answering,
)


SETTINGS_SECRET = 'sk-ant-api03-SETTINGS-secret-never-print-me'
ENV_FILE_SECRET = 'sk-ant-api03-ENVFILE-secret-never-print-me'
UNIT_SECRET = 'sk-ant-api03-UNIT-secret-never-print-me'

UNIT = (
    '[Unit]\n'
    'Description=Jada agent orchestrator (Claude Code)\n'
    'Wants=network-online.target\n'
    'After=network-online.target\n'
    '\n'
    '[Service]\n'
    'Type=simple\n'
    'User=jada\n'
    'WorkingDirectory=/srv/jada/orchestrator\n'
    'EnvironmentFile=/etc/jada/jada-agent.env\n'
    'ExecStart=/opt/jada/bin/claude --dangerously-skip-permissions\n'
    'Restart=on-failure\n'
    '\n'
    '[Install]\n'
    'WantedBy=multi-user.target\n'
)
LIMITS_DROPIN = '[Service]\nLimitNOFILE=65536\n'


def settings_text(model=None):
    """A settings file as Claude Code writes it, with a secret in its env block.

    The env block sets no ANTHROPIC_MODEL (the CLI would request it over every "model" key), only a secret and a
    variable the model does not depend on, whose value must never be returned either.
    """
    members = ['  "$schema": "https://json.schemastore.org/claude-code-settings.json"']
    if model is not None:
        members.append('  "model": "%s"' % model)
    members.append('  "env": {\n    "ANTHROPIC_API_KEY": "%s",\n    "ANTHROPIC_SMALL_FAST_MODEL": "env-block-model"\n  }'
                   % SETTINGS_SECRET)
    return '{\n' + ',\n'.join(members) + '\n}\n'


class Host(object):
    """An orchestrator host in a temporary directory, with fake systemctl, journalctl and /proc."""

    def __init__(self, root, monkeypatch):
        self.root = root
        # The service user exists on the host (only this module's lookup is faked: no test machine has a jada user).
        users = {'jada': '/home/jada'}

        def getpwnam(name):
            if name not in users:
                raise KeyError(name)
            return types.SimpleNamespace(pw_name=name, pw_dir=users[name])

        monkeypatch.setattr(agent_host_info, 'pwd', types.SimpleNamespace(getpwnam=getpwnam))
        self.proc = FakeProc(root / 'proc', nr_open=1048576, file_max=9223372036854775807)
        self.proc.process(812, nofile=(65536, 65536))
        monkeypatch.setattr(agent_host, 'PROC', self.proc.root)

        self.unit_dir = root / 'etc' / 'systemd' / 'system'
        self.unit_dir.mkdir(parents=True)
        monkeypatch.setattr(agent_host_info, 'UNIT_DIR', str(self.unit_dir))
        self.unit = self.unit_dir / 'jada-agent.service'
        self.unit.write_text(UNIT)
        self.dropin_dir = self.unit_dir / 'jada-agent.service.d'
        self.dropin_dir.mkdir()
        (self.dropin_dir / '50-limits.conf').write_text(LIMITS_DROPIN)

        self.env_file = root / 'etc' / 'jada' / 'jada-agent.env'
        self.env_file.parent.mkdir(parents=True)
        self.env_file.write_text('ANTHROPIC_API_KEY=%s\n' % ENV_FILE_SECRET)

        self.managed = root / 'etc' / 'claude-code'
        self.cli = root / 'opt' / 'jada' / 'bin' / 'claude'
        self.user_settings = root / 'home' / 'jada' / '.claude' / 'settings.json'
        self.project_settings = root / 'srv' / 'jada' / 'orchestrator' / '.claude' / 'settings.json'
        for path in (self.user_settings, self.project_settings):
            path.parent.mkdir(parents=True)

        # The unit's HOME and WorkingDirectory are where the CLI finds the user and project files.
        self.state = {'show': running_service(
            Environment='HOME=%s "JADA_GREETING=hello world" ANTHROPIC_API_KEY=%s' % (root / 'home' / 'jada', UNIT_SECRET),
            EnvironmentFiles=['%s (ignore_errors=no)' % self.env_file],
            WorkingDirectory=str(root / 'srv' / 'jada' / 'orchestrator'),
        )}
        # Started after every file a test writes, unless a test says otherwise.
        self.started(time.monotonic() + 600)
        self.journal = ''
        self.commands = FakeCommands(monkeypatch)
        self.commands.on('systemctl', systemctl_answering(self.state))
        self.commands.on('journalctl', lambda argv: (0, self.journal, ''))

    def started(self, monotonic_seconds):
        self.state['show']['ExecMainStartTimestampMonotonic'] = str(int(monotonic_seconds * 1e6))

    def write(self, path, text):
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        path.write_text(text)
        return path

    def install_cli(self, version='2.1.328'):
        """The CLI package at cli_path: the model it requests depends on its version."""
        install_package(self, self.root / 'opt' / 'jada' / 'lib' / 'claude-code', '@anthropic-ai/claude-code-linux-x64', version)
        self.cli.parent.mkdir(parents=True, exist_ok=True)
        if not self.cli.is_symlink():
            self.cli.symlink_to(self.root / 'opt' / 'jada' / 'lib' / 'claude-code' / 'claude')

    def args(self, **extra):
        args = {
            'service': 'jada-agent',
            'settings_files': [str(self.user_settings), str(self.project_settings)],
            'managed_settings_dir': str(self.managed),
            'cli_path': str(self.cli),
            'output': str(self.root / 'output.jsonl'),
        }
        args.update(extra)
        return args


@pytest.fixture
def host(tmp_path, monkeypatch):
    return Host(tmp_path, monkeypatch)


@pytest.fixture
def run(capsys):
    def run_info(args, check_mode=False):
        return run_module(agent_host_info.main, args, capsys, check_mode=check_mode)

    return run_info


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the whole state --------------------------------------------------------------------------------

def test_reports_the_running_service(host, run):
    result = run(host.args())

    assert not result.failed
    assert result['changed'] is False
    assert result['service'] == {
        'name': 'jada-agent',
        'load_state': 'loaded',
        'active_state': 'active',
        'sub_state': 'running',
        'main_pid': 812,
        'n_restarts': 0,
        'active_since': 'Sun 2026-11-22 08:32:30 UTC',
        'active_since_monotonic': 52791950,
        'enabled': True,
        'need_daemon_reload': False,
        'exec_start': ['/opt/jada/bin/claude', '--dangerously-skip-permissions'],
        'limit_nofile': 65536,
        'main_start_monotonic': int(host.state['show']['ExecMainStartTimestampMonotonic']),
        'stale_inputs': [],
        'restart_loop': False,
    }


def test_reads_the_service_with_one_systemctl_show_and_samples_its_restarts_again(host, run):
    run(host.args())

    assert host.commands.calls == [
        ['systemctl', 'show', 'jada-agent.service', '--property', ','.join(agent_host.SHOW_PROPERTIES)],
        ['systemctl', 'show', 'jada-agent.service', '--property', ','.join(agent_host.LOOP_PROPERTIES)]]


def test_files_changed_after_the_agent_started_are_stale_inputs(host, run):
    host.write(host.project_settings, settings_text('claude-haiku-4-5'))
    host.started(time.monotonic())
    time.sleep(0.1)
    host.write(host.project_settings, settings_text('claude-sonnet-4-6'))
    host.env_file.write_text('ANTHROPIC_API_KEY=%s\n' % ENV_FILE_SECRET)

    result = run(host.args(desired={'model': 'claude-sonnet-4-6'}))

    assert result['service']['stale_inputs'] == [str(host.project_settings), str(host.env_file)]
    assert result['plan']['restart'] == ['the agent started before %s, %s changed' % (host.project_settings, host.env_file)]
    assert result['plan']['pending'] is True


def test_a_crash_loop_between_the_two_samples_is_a_restart_loop(host, run):
    calls = []

    def systemctl(argv):
        calls.append(argv)
        # The second sample: systemd restarted the agent by itself meanwhile.
        if len(calls) > 1:
            host.state['show']['NRestarts'] = '3'
        return agent_fixtures_systemctl(argv)

    agent_fixtures_systemctl = host.commands.handlers['systemctl']
    host.commands.on('systemctl', systemctl)
    result = run(host.args(desired={'model': 'claude-sonnet-4-6'}))

    assert result['service']['restart_loop'] is True
    assert result['plan']['healthy'] is False
    assert result['plan']['refusals'][0].startswith('the agent jada-agent is restarting in a loop (active/running, '
                                                    'NRestarts 0) before any change.')


def test_a_missing_service_user_is_refused(host, run):
    result = run(host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'nobody-by-that-name'}))

    assert result['user'] == {'name': 'nobody-by-that-name', 'exists': False, 'home': None}
    assert result['plan']['refusals'][0].startswith('the service user nobody-by-that-name does not exist on this host')


def test_a_settings_path_that_is_a_directory_is_refused(host, run):
    host.project_settings.mkdir()

    result = run(host.args(desired={'model': 'claude-sonnet-4-6'}))

    assert ('settings file %s cannot be used: %s: cannot be read: Is a directory.' % (host.project_settings, host.project_settings)
            in result['plan']['refusals'][0])


def test_digests_of_unit_and_dropins(host, run):
    (host.dropin_dir / '10-environment.conf').write_text('[Service]\nEnvironment=JADA_GREETING=hi\n')
    (host.dropin_dir / '50-limits.conf.dpkg-old').write_text('[Service]\nLimitNOFILE=1024\n')

    result = run(host.args())

    assert result['unit'] == {'path': str(host.unit), 'sha256': sha256_of(host.unit)}
    assert result['dropins'] == {
        '10-environment.conf': sha256_of(host.dropin_dir / '10-environment.conf'),
        '50-limits.conf': hashlib.sha256(LIMITS_DROPIN.encode()).hexdigest(),
    }


def test_digests_follow_an_edit(host, run):
    before = run(host.args())
    (host.dropin_dir / '50-limits.conf').write_text('[Service]\nLimitNOFILE=1048576\n')
    after = run(host.args())

    assert before['unit'] == after['unit']
    assert before['dropins']['50-limits.conf'] != after['dropins']['50-limits.conf']
    assert after['dropins']['50-limits.conf'] == hashlib.sha256(b'[Service]\nLimitNOFILE=1048576\n').hexdigest()


def test_missing_unit_has_no_digests(host, run):
    host.unit.unlink()
    (host.dropin_dir / '50-limits.conf').unlink()
    host.dropin_dir.rmdir()
    host.state['show'] = running_service(LoadState='not-found', ActiveState='inactive', SubState='dead', MainPID='0',
                                         UnitFileState='', ExecStart='', FragmentPath='', DropInPaths='')

    result = run(host.args())

    assert result['unit'] == {'path': str(host.unit), 'sha256': None}
    assert result['dropins'] == {}
    assert result['service']['load_state'] == 'not-found'
    assert result['service']['enabled'] is False
    assert result['service']['exec_start'] == []


def test_file_digests(host, run):
    limits_conf = host.write(host.root / 'etc' / 'security' / 'limits.d' / 'jada.conf', 'jada - nofile 65536\n')
    missing = host.root / 'etc' / 'security' / 'limits.d' / 'missing.conf'

    result = run(host.args(files=[str(limits_conf), str(missing)]))

    assert result['file_digests'] == {str(limits_conf): sha256_of(limits_conf), str(missing): None}


def test_environment_file_digests(host, run):
    optional = host.root / 'etc' / 'jada' / 'local.env'
    host.state['show']['EnvironmentFiles'] = ['%s (ignore_errors=no)' % host.env_file,
                                              '%s (ignore_errors=yes)' % optional]

    result = run(host.args())

    assert result['environment_files'] == {str(host.env_file): sha256_of(host.env_file), str(optional): None}


def test_effective_limits_come_from_proc_not_from_systemd(host, run):
    # systemd was asked for 65536 but the process got less (clamped): /proc tells the truth.
    host.proc.set_nofile(812, (20000, 20000))

    result = run(host.args())

    assert result['service']['limit_nofile'] == 65536
    assert result['limits'] == {'nofile_soft': 20000, 'nofile_hard': 20000}


def test_kernel_limits(host, run):
    assert run(host.args())['kernel'] == {'nr_open': 1048576, 'file_max': 9223372036854775807}


def test_stopped_service_has_no_limits(host, run):
    host.state['show'] = stopped_service()

    result = run(host.args())

    assert result['service']['main_pid'] == 0
    assert result['service']['active_state'] == 'failed'
    assert result['limits'] == {'nofile_soft': None, 'nofile_hard': None}


def test_infinite_limit_nofile(host, run):
    host.state['show']['LimitNOFILE'] = 'infinity'

    assert run(host.args())['service']['limit_nofile'] == 'infinity'


def test_need_daemon_reload_and_disabled(host, run):
    host.state['show'].update(NeedDaemonReload='yes', UnitFileState='disabled')

    service = run(host.args())['service']

    assert service['need_daemon_reload'] is True
    assert service['enabled'] is False


def test_systemctl_failure_fails_the_module(host, run):
    host.commands.on('systemctl', (1, '', 'Failed to connect to bus: No such file or directory\n'))

    result = run(host.args())

    assert result.failed
    assert result['msg'] == 'systemctl show jada-agent.service failed: Failed to connect to bus: No such file or directory'


def test_check_mode_reports_the_same(host, run):
    host.write(host.project_settings, settings_text('claude-sonnet-4-6'))

    normal = run(host.args())
    checked = run(host.args(), check_mode=True)

    assert not checked.failed
    assert checked == normal


# --- settings files and the effective model ---------------------------------------------------------

def test_models_of_each_settings_file(host, run):
    host.write(host.user_settings, settings_text('claude-opus-4-1'))
    host.write(host.project_settings, settings_text('claude-sonnet-4-6'))

    result = run(host.args())

    assert result['models'] == {str(host.user_settings): 'claude-opus-4-1', str(host.project_settings): 'claude-sonnet-4-6'}
    assert result['settings'] == [
        {'path': str(host.user_settings), 'real_path': str(host.user_settings), 'exists': True,
         'model': 'claude-opus-4-1', 'error': None},
        {'path': str(host.project_settings), 'real_path': str(host.project_settings), 'exists': True,
         'model': 'claude-sonnet-4-6', 'error': None},
    ]


def test_models_are_keyed_by_the_path_as_given(host, run, monkeypatch):
    # Was: ~/.claude/settings.local.json outranks ~/.claude/settings.json. The real CLI 2.1.328 never reads a
    # settings.local.json beside the user file (it requested the user file's model), and remaps claude-opus-4-1.
    host.install_cli()
    monkeypatch.setenv('HOME', str(host.root / 'home' / 'jada'))
    host.write(host.user_settings, settings_text('claude-opus-4-1'))
    host.write(host.user_settings.parent / 'settings.local.json', settings_text('claude-haiku-4-5'))

    result = run(host.args(settings_files=['~/.claude/settings.json']))

    assert result['models'] == {'~/.claude/settings.json': 'claude-opus-4-1'}
    assert result['settings'][0]['path'] == '~/.claude/settings.json'
    assert result['settings'][0]['real_path'] == str(host.user_settings)
    effective = result['effective_model']
    assert (effective['model'], effective['setting'], effective['source']) == (
        'claude-opus-5-5', 'claude-opus-4-1', str(host.user_settings))
    assert [warning['kind'] for warning in effective['warnings']] == ['legacy-remap']
    assert result['overrides'] == []


def model_and_source(result):
    return result['effective_model']['model'], result['effective_model']['source']


def test_settings_file_reached_through_a_symlink(host, run):
    host.install_cli()
    shared = host.write(host.root / 'srv' / 'shared' / 'settings.json', settings_text('claude-sonnet-4-6'))
    host.project_settings.symlink_to(shared)

    result = run(host.args())

    assert result['settings'][1]['real_path'] == str(shared)
    assert model_and_source(result) == ('claude-sonnet-4-6', str(shared))


# Every place that can set the model, highest precedence first.
LAYERS = ('flag', 'unit_environment', 'environment_file', 'managed', 'project_local', 'project', 'user')


def set_layers(host, layers):
    """Give each of ``layers`` its own model, named after the layer, on a host with the CLI installed."""
    host.install_cli()
    if 'flag' in layers:
        host.state['show']['ExecStart'] = EXEC_START.replace(
            '--dangerously-skip-permissions ;', '--dangerously-skip-permissions --model model-from-flag ;')
    if 'unit_environment' in layers:
        host.state['show']['Environment'] += ' ANTHROPIC_MODEL=model-from-unit-environment'
    if 'environment_file' in layers:
        with open(str(host.env_file), 'a') as handle:
            handle.write('ANTHROPIC_MODEL="model-from-environment-file"\n')
    if 'managed' in layers:
        host.write(host.managed / 'managed-settings.json', settings_text('model-from-managed'))
    if 'project_local' in layers:
        host.write(host.project_settings.parent / 'settings.local.json', settings_text('model-from-project_local'))
    host.write(host.project_settings, settings_text('model-from-project' if 'project' in layers else None))
    host.write(host.user_settings, settings_text('model-from-user' if 'user' in layers else None))


@pytest.mark.parametrize('top', range(len(LAYERS)))
def test_effective_model_precedence(host, run, top):
    present = LAYERS[top:]
    set_layers(host, present)

    effective = run(host.args())['effective_model']

    if present[0] in ('unit_environment', 'environment_file'):
        # systemd: EnvironmentFile= assignments override Environment= ones.
        expected = 'model-from-environment-file'
    else:
        expected = 'model-from-%s' % present[0]
    assert effective['model'] == expected


def test_without_any_model_claude_code_decides(host, run):
    # Was: model null. The real CLI 2.1.328 with no model anywhere requested claude-opus-5-5.
    set_layers(host, ())

    result = run(host.args())

    assert model_and_source(result) == ('claude-opus-5-5', 'Claude Code default')
    assert result['effective_model']['setting'] is None
    assert [warning['kind'] for warning in result['effective_model']['warnings']] == ['default']
    assert result['overrides'] == []


def test_unknown_cli_version_gives_no_model(host, run):
    set_layers(host, ('project',))
    host.install_cli('9.9.9')

    effective = run(host.args())['effective_model']

    assert effective['model'] is None
    assert (effective['setting'], effective['source']) == ('model-from-project', str(host.project_settings))
    assert [warning['kind'] for warning in effective['warnings']] == ['unknown-cli-version']
    assert '9.9.9' in effective['warnings'][0]['msg']


def test_env_block_of_the_user_file_beats_the_project_model(host, run):
    # The real CLI 2.1.328 requested the user env block's ANTHROPIC_MODEL over the project file's "model".
    set_layers(host, ('project',))
    host.write(host.user_settings, '{"env": {"ANTHROPIC_MODEL": "sonnet", "ANTHROPIC_API_KEY": "%s"}}' % SETTINGS_SECRET)

    result = run(host.args())

    assert model_and_source(result) == ('claude-sonnet-5-5', 'ANTHROPIC_MODEL in the env block of %s' % host.user_settings)
    assert result['effective_model']['setting'] == 'sonnet'
    assert result['overrides'] == [{'kind': 'environment', 'model': 'sonnet',
                                    'source': 'ANTHROPIC_MODEL in the env block of %s' % host.user_settings}]
    assert SETTINGS_SECRET not in result.text


def test_files_the_cli_skips_are_listed_with_line_and_column(host, run):
    set_layers(host, ('project',))
    local = host.write(host.project_settings.parent / 'settings.local.json', '{"model": "claude-haiku-4-5",}')

    effective = run(host.args())['effective_model']

    assert effective['model'] == 'model-from-project'
    reason = 'line 1, column 29: trailing comma is not allowed in strict JSON (Claude Code would reject this file too)'
    assert effective['skipped'] == [{'path': str(local), 'reason': reason}]


def test_claude_config_dir_of_the_unit_moves_the_user_file(host, run):
    set_layers(host, ('user',))
    config = host.write(host.root / 'cfg' / 'settings.json', '{"model": "claude-haiku-4-5"}')
    host.state['show']['Environment'] += ' CLAUDE_CONFIG_DIR=%s' % config.parent

    assert model_and_source(run(host.args())) == ('claude-haiku-4-5', str(config))


def test_overrides_are_listed_highest_first(host, run):
    # Was: managed-settings.json above its drop-ins, and ~/.claude/settings.local.json listed. The real CLI 2.1.328
    # requested a drop-in's model over managed-settings.json's, and never read a settings.local.json beside the user file.
    set_layers(host, LAYERS)
    host.write(host.managed / 'managed-settings.d' / '50-jada.json', settings_text('model-from-managed-dropin'))
    host.write(host.user_settings.parent / 'settings.local.json', settings_text('model-from-user_local'))

    result = run(host.args())

    assert result['overrides'] == [
        {'kind': 'flag', 'source': '--model in ExecStart of jada-agent', 'model': 'model-from-flag'},
        {'kind': 'environment', 'source': 'ANTHROPIC_MODEL in %s (EnvironmentFile of jada-agent)' % host.env_file,
         'model': 'model-from-environment-file'},
        {'kind': 'file', 'source': str(host.managed / 'managed-settings.d' / '50-jada.json'),
         'model': 'model-from-managed-dropin'},
        {'kind': 'file', 'source': str(host.managed / 'managed-settings.json'), 'model': 'model-from-managed'},
        {'kind': 'file', 'source': str(host.project_settings.parent / 'settings.local.json'),
         'model': 'model-from-project_local'},
    ]
    assert model_and_source(result) == ('model-from-flag', '--model in ExecStart of jada-agent')


def test_unit_environment_alone_overrides_settings(host, run):
    set_layers(host, ('unit_environment', 'managed', 'project', 'user'))

    result = run(host.args())

    assert model_and_source(result) == ('model-from-unit-environment', 'ANTHROPIC_MODEL in the environment of jada-agent')


def test_later_settings_file_beats_the_earlier_one(host, run):
    set_layers(host, ('project', 'user'))

    assert model_and_source(run(host.args())) == ('model-from-project', str(host.project_settings))


def test_exported_variable_in_the_environment_file_is_not_an_override(host, run):
    # systemd reads "export ANTHROPIC_MODEL=..." as the key "export ANTHROPIC_MODEL", which sets nothing.
    set_layers(host, ('project',))
    with open(str(host.env_file), 'a') as handle:
        handle.write('export ANTHROPIC_MODEL=model-from-export\n')

    result = run(host.args())

    assert result['overrides'] == []
    assert result['effective_model']['model'] == 'model-from-project'


def test_unreadable_environment_file_is_skipped(host, run):
    set_layers(host, ('unit_environment', 'project'))
    host.env_file.unlink()

    result = run(host.args())

    assert result['effective_model']['model'] == 'model-from-unit-environment'
    assert result['environment_files'] == {str(host.env_file): None}


def test_unparseable_settings_file_names_path_line_and_column(host, run):
    host.install_cli()
    host.write(host.user_settings, settings_text('model-from-user'))
    broken = settings_text('model-from-project').replace('"env": {', '"env": {,')
    host.write(host.project_settings, broken)

    result = run(host.args())

    entry = result['settings'][1]
    assert entry['model'] is None
    assert entry['exists'] is True
    assert entry['error'].startswith('%s: line 4, column 11: ' % host.project_settings), entry['error']
    assert result['models'][str(host.project_settings)] is None
    assert model_and_source(result) == ('model-from-user', str(host.user_settings))
    assert [entry['path'] for entry in result['effective_model']['skipped']] == [str(host.project_settings)]
    assert SETTINGS_SECRET not in result.text
    assert 'env-block-model' not in result.text


def test_truncated_settings_file_error_has_no_content(host, run):
    host.write(host.project_settings, settings_text('claude-sonnet-4-6')[:-40])

    entry = run(host.args())['settings'][1]

    assert 'unexpected end of file' in entry['error'] or 'unterminated string' in entry['error']
    assert ' line ' in entry['error'] and ' column ' in entry['error']
    assert 'sk-ant' not in entry['error']


def test_secrets_never_appear_in_the_output(host, run):
    set_layers(host, LAYERS)
    host.write(host.user_settings.parent / 'settings.local.json', '{"env": {"ANTHROPIC_API_KEY": "%s"' % SETTINGS_SECRET)
    host.journal = '2026-11-22T08:32:31+00:00 orch-1 claude[812]: Error: rate limited\n'

    result = run(host.args(journal_lines=5, files=[str(host.env_file)]))

    assert not result.failed
    for secret in (SETTINGS_SECRET, ENV_FILE_SECRET, UNIT_SECRET, 'env-block-model', 'hello world'):
        assert secret not in result.text
    # The checks above must not pass just because the result is empty.
    assert 'model-from-flag' in result.text
    assert result['journal'] == ['2026-11-22T08:32:31+00:00 orch-1 claude[812]: Error: rate limited']


# --- journal ----------------------------------------------------------------------------------------

JOURNAL = '\n'.join([
    '2026-11-22T08:32:25+00:00 orch-1 systemd[1]: Stopping jada-agent.service - Jada agent orchestrator (Claude Code)...',
    '2026-11-22T08:32:25+00:00 orch-1 systemd[1]: jada-agent.service: Deactivated successfully.',
    '2026-11-22T08:32:30+00:00 orch-1 systemd[1]: Started jada-agent.service - Jada agent orchestrator (Claude Code).',
    '2026-11-22T08:32:31+00:00 orch-1 claude[812]: Error: invalid settings in /srv/jada/orchestrator/.claude/settings.json',
    '2026-11-22T08:32:32+00:00 orch-1 claude[812]: Listening on /run/jada/agent.sock',
    '2026-11-22T08:32:33+00:00 orch-1 claude[812]: FATAL ' + 'x' * 400,
    '2026-11-22T08:32:34+00:00 orch-1 systemd[1]: jada-agent.service: Failed with result \'exit-code\'.',
]) + '\n'


def test_journal_returns_the_latest_matching_lines(host, run):
    host.journal = JOURNAL

    result = run(host.args(journal_lines=2))

    assert result['journal'] == [
        ('2026-11-22T08:32:33+00:00 orch-1 claude[812]: FATAL ' + 'x' * 400)[:300],
        '2026-11-22T08:32:34+00:00 orch-1 systemd[1]: jada-agent.service: Failed with result \'exit-code\'.',
    ]
    assert host.commands.called('journalctl') == [
        ['journalctl', '--unit', 'jada-agent', '--output', 'short-iso', '--no-pager', '--lines', '500']]


def test_journal_with_a_custom_pattern(host, run):
    host.journal = JOURNAL

    result = run(host.args(journal_lines=10, journal_pattern='Listening'))

    assert result['journal'] == ['2026-11-22T08:32:32+00:00 orch-1 claude[812]: Listening on /run/jada/agent.sock']


def test_journal_is_not_read_by_default(host, run):
    host.journal = JOURNAL

    result = run(host.args())

    assert 'journal' not in result
    assert host.commands.called('journalctl') == []


def test_failing_journalctl_gives_no_lines(host, run):
    host.commands.on('journalctl', (1, '', 'No journal files were found.\n'))

    assert run(host.args(journal_lines=3))['journal'] == []


def test_invalid_journal_pattern_fails_before_reading_anything(host, run):
    result = run(host.args(journal_lines=3, journal_pattern='(error'))

    assert result.failed
    assert result['msg'].startswith('journal_pattern is not a valid regular expression: ')
    assert host.commands.calls == []


def test_result_is_plain_json(host, run):
    set_layers(host, LAYERS)

    result = run(host.args())

    assert json.loads(result.text) == dict(result)
    assert os.path.isabs(result['unit']['path'])


# --- the Claude Code CLI ----------------------------------------------------------------------------

def package_json(name, version='2.1.328'):
    """package.json of a Claude Code npm package, as published (the native ones name their platform)."""
    return json.dumps({'name': name, 'version': version, 'description': 'Native binary for Claude Code on linux-x64',
                       'os': ['linux'], 'cpu': ['x64'], 'libc': ['glibc'], 'license': 'SEE LICENSE IN LICENSE.md',
                       'files': ['claude', 'README.md', 'LICENSE.md']}, indent=2) + '\n'


def install_package(host, directory, name, version='2.1.328', binary='claude'):
    """An extracted npm package: the binary (which must never be run to learn its version) and package.json."""
    host.write(directory / 'package.json', package_json(name, version))
    binary_path = host.write(directory / binary, '#!/bin/sh\nexit 99\n')
    os.chmod(str(binary_path), 0o755)
    return binary_path


def plain_binary(host, path):
    binary = host.write(path, '\x7fELF not really\n')
    os.chmod(str(binary), 0o755)
    return binary


def test_cli_missing(host, run):
    result = run(host.args())

    assert result['cli'] == {'path': str(host.cli), 'exists': False, 'real_path': str(host.cli),
                             'version': None, 'package': None, 'install_dir': None}
    assert host.commands.called(str(host.cli)) == []


def test_cli_installed_by_the_role_is_read_from_its_package_without_running_it(host, run):
    install_dir = host.root / 'opt' / 'jada' / 'lib' / 'claude-code' / '2.1.328-linux-x64'
    binary = install_package(host, install_dir, '@anthropic-ai/claude-code-linux-x64')
    host.cli.parent.mkdir(parents=True)
    host.cli.symlink_to(binary)

    result = run(host.args())

    assert result['cli'] == {'path': str(host.cli), 'exists': True, 'real_path': str(binary), 'version': '2.1.328',
                             'package': '@anthropic-ai/claude-code-linux-x64', 'install_dir': str(install_dir)}
    assert [argv[0] for argv in host.commands.calls] == ['systemctl', 'systemctl']


def test_cli_of_the_npm_wrapper_package_is_read_one_level_up(host, run):
    # npm install -g @anthropic-ai/claude-code: bin/claude.exe, package.json in the package directory.
    package_dir = host.root / 'usr' / 'lib' / 'node_modules' / '@anthropic-ai' / 'claude-code'
    binary = install_package(host, package_dir, '@anthropic-ai/claude-code', '2.1.300', binary='bin/claude.exe')
    host.cli.parent.mkdir(parents=True)
    host.cli.symlink_to(binary)

    cli = run(host.args())['cli']

    assert (cli['version'], cli['package'], cli['install_dir']) == ('2.1.300', '@anthropic-ai/claude-code', str(package_dir))


@pytest.mark.parametrize('rc, out, version', [
    (0, '2.1.328 (Claude Code)\n', '2.1.328'),
    (0, '2.2.0-beta.1 (Claude Code)\n', '2.2.0-beta.1'),
    # A wrapper that ignored the flag and started the agent until it was killed.
    (-9, 'jada-agent: starting orchestrator pid=4242 model=claude-haiku-4-5 source=default\n', None),
    (0, 'jada-agent: starting orchestrator pid=4242 model=claude-haiku-4-5 source=default\n', None),
    (1, '2.1.328 (Claude Code)\n', None),
    (None, '', None),
])
def test_cli_without_a_package_answers_version(host, run, rc, out, version):
    plain_binary(host, host.cli)
    host.commands.on(str(host.cli), (rc, out, ''))

    cli = run(host.args())['cli']

    assert cli == {'path': str(host.cli), 'exists': True, 'real_path': str(host.cli), 'version': version,
                   'package': None, 'install_dir': None}
    assert host.commands.called(str(host.cli)) == [[str(host.cli), '--version']]


def test_cli_beside_a_foreign_package_json_is_a_plain_binary(host, run):
    plain_binary(host, host.cli)
    host.write(host.cli.parent / 'package.json', package_json('left-pad', '1.3.0'))
    host.commands.on(str(host.cli), (0, '2.1.328 (Claude Code)\n', ''))

    cli = run(host.args())['cli']

    assert (cli['version'], cli['package'], cli['install_dir']) == ('2.1.328', None, None)


def test_cli_that_is_not_executable_is_not_run(host, run):
    host.write(host.cli, 'not a program\n')

    cli = run(host.args())['cli']

    assert (cli['exists'], cli['version']) == (True, None)
    assert host.commands.called(str(host.cli)) == []


def test_cli_behind_a_dangling_link(host, run):
    gone = host.root / 'opt' / 'jada' / 'lib' / 'claude-code' / '2.1.300-linux-x64' / 'claude'
    host.cli.parent.mkdir(parents=True)
    host.cli.symlink_to(gone)

    cli = run(host.args())['cli']

    assert cli == {'path': str(host.cli), 'exists': False, 'real_path': str(gone), 'version': None,
                   'package': None, 'install_dir': None}
    assert host.commands.calls == host.commands.called('systemctl')


def test_cli_is_reported_in_check_mode_too(host, run):
    install_package(host, host.cli.parent, '@anthropic-ai/claude-code-linux-arm64')

    checked = run(host.args(), check_mode=True)

    assert (checked['cli']['version'], checked['cli']['package']) == ('2.1.328', '@anthropic-ai/claude-code-linux-arm64')


# --- the agent's latest answer ----------------------------------------------------------------------

@pytest.mark.parametrize('sample, expected', [
    # The third task of the service, after a restart: answered by Haiku.
    ('service-success.jsonl', {'task_uuid': agent_fixtures.AFTER_RESTART_TASK, 'is_error': False,
                               'models': ['claude-haiku-4-5'], 'init_model': 'claude-haiku-4-5'}),
    # Refused with 404: no model answered, whatever the settings say.
    ('notfound-404.jsonl', {'task_uuid': agent_fixtures.SAMPLE_TASK, 'is_error': True, 'api_error_status': 404,
                            'api_error_type': 'not_found_error', 'models': [], 'init_model': 'claude-sonnet-4-6'}),
])
def test_the_agents_latest_answer_comes_from_its_output(host, run, sample, expected):
    (host.root / 'output.jsonl').write_text('\n'.join(agent_fixtures.cli_lines(sample)) + '\n')

    agent = run(host.args())['agent']

    assert dict((key, agent[key]) for key in expected) == expected


def test_the_latest_answer_never_carries_the_answer_text(host, run):
    lines = agent_fixtures.cli_lines('service-success.jsonl')
    (host.root / 'output.jsonl').write_text('\n'.join(lines) + '\n')
    assert any('"result":"OK"' in line for line in lines)

    result = run(host.args())

    assert result['agent']['models'] == ['claude-haiku-4-5']
    assert '"OK"' not in json.dumps(result['agent']) and 'hello' not in result.raw


def test_no_output_yet_is_no_answer(host, run):
    assert run(host.args())['agent'] is None


# --- the plan: the model the CLI will request once the rollout wrote the settings files --------------------------

def test_no_desired_state_no_plan(host, run):
    result = run(host.args())
    assert (result['planned_model'], result['plan']) == (None, None)


def test_planned_model_once_the_settings_files_are_written(host, run):
    host.install_cli()
    host.write(host.project_settings, '{"model": "claude-haiku-4-5"}')
    host.write(host.user_settings, '{"model": "claude-haiku-4-5"}')

    result = run(host.args(desired={'model': 'claude-sonnet-4-6'}))

    assert result['effective_model']['model'] == 'claude-haiku-4-5'
    assert (result['planned_model']['model'], result['planned_model']['source']) == (
        'claude-sonnet-4-6', str(host.project_settings))
    assert result['planned_model']['from_settings_files'] is True
    # Planning writes nothing.
    assert host.project_settings.read_text() == '{"model": "claude-haiku-4-5"}'


@pytest.mark.parametrize('layer', ['managed', 'project_local'])
def test_planned_model_names_what_still_wins(host, run, layer):
    host.install_cli()
    set_layers(host, ['user', 'project', layer])

    planned = run(host.args(desired={'model': 'claude-sonnet-4-6'}))['planned_model']

    assert planned['model'] == 'model-from-%s' % layer
    assert planned['source'] != str(host.project_settings) and planned['from_settings_files'] is False


def test_planned_model_on_a_cli_version_without_facts_is_unknown(host, run):
    host.install_cli()
    host.write(host.project_settings, '{"model": "sonnet"}')

    result = run(host.args(desired={'model': 'sonnet', 'cli_version': '9.9.9'}))

    assert result['effective_model']['model'] == 'claude-sonnet-5-5'
    assert result['planned_model']['model'] is None
    assert 'unknown-cli-version' in [warning['kind'] for warning in result['planned_model']['warnings']]


# --- the unit the rollout will install is what the engine answers for -------------------------------------------

DESIRED_EXEC_START = '/opt/jada/bin/claude -p --dangerously-skip-permissions'


@pytest.mark.parametrize('exec_start, environment, winner', [
    (DESIRED_EXEC_START, {}, None),
    (DESIRED_EXEC_START + ' --model claude-haiku-4-5', {}, '--model in ExecStart of jada-agent'),
    # Repeated, the last flag counts, as in the CLI's option parser.
    (DESIRED_EXEC_START + ' --model claude-haiku-4-5 --model claude-sonnet-4-6', {}, '--model in ExecStart of jada-agent'),
    (DESIRED_EXEC_START, {'ANTHROPIC_MODEL': 'claude-haiku-4-5'},
     'ANTHROPIC_MODEL in /etc/jada/other.env (EnvironmentFile of jada-agent)'),
])
def test_planned_model_reads_the_desired_unit(host, run, exec_start, environment, winner):
    host.install_cli()
    host.write(host.project_settings, '{"model": "claude-haiku-4-5"}')

    result = run(host.args(desired={'model': 'claude-sonnet-4-6', 'exec_start': exec_start, 'environment': environment,
                                    'environment_file': '/etc/jada/other.env', 'user': 'jada',
                                    'working_directory': str(host.project_settings.parent.parent)}))

    planned = result['planned_model']
    if winner is None:
        assert (planned['model'], planned['from_settings_files'], result['plan']['refusals']) == ('claude-sonnet-4-6', True, [])
    else:
        assert (planned['source'], planned['from_settings_files']) == (winner, False)
        assert winner in result['plan']['refusals'][0]


def test_plan_lists_what_differs(host, run):
    host.install_cli()
    host.write(host.project_settings, '{"model": "claude-haiku-4-5"}')
    host.write(host.user_settings, '{"model": "claude-sonnet-4-6"}')

    plan = run(host.args(desired={'model': 'claude-sonnet-4-6', 'nofile': 65536}))['plan']

    assert plan['settings_files'] == [str(host.project_settings)]
    assert plan['pending'] is True and plan['limits']['nofile'] == 65536


def test_an_unfinished_rollout_in_the_snapshot_directory_is_reported_and_planned(host, run):
    snapshots_dir = host.root / 'var' / 'lib' / 'jada-agent' / 'snapshot'
    for name, phase in (('r1', 'complete'), ('r2', 'started')):
        (snapshots_dir / name).mkdir(parents=True)
        (snapshots_dir / name / 'phase.json').write_text(json.dumps({'phase': phase, 'time': 5, 'since': 5}))

    result = run(host.args(snapshot_dir=str(snapshots_dir), desired={'model': 'claude-sonnet-4-6'}))

    assert result['rollouts']['count'] == 2 and result['rollouts']['unfinished']['id'] == 'r2'
    assert result['plan']['unfinished'] == 'r2' and result['plan']['pending'] is True


def test_without_a_snapshot_directory_no_rollouts_are_read(host, run):
    assert run(host.args())['rollouts'] is None


# --- the hardening the host's systemd can apply -----------------------------------------------------------

HARDENING = {'NoNewPrivileges': True, 'ProtectKernelTunables': True, 'ProtectSystem': 'full', 'PrivateTmp': None}
DESIRED_UNIT = '[Service]\nUser=jada\nNoNewPrivileges=yes\nProtectKernelTunables=yes\nProtectSystem=full\n'


def systemd_run_refusing(*refused):
    """systemd-run as systemd 257 answers in an unprivileged container: a unit with any of ``refused`` fails."""
    def answer(argv):
        properties = [argv[index + 1] for index, word in enumerate(argv) if word == '--property']
        if any(prop.split('=')[0] in refused for prop in properties):
            return 3, 'Running as unit: run-u7.service\n', ('Job for run-u7.service failed.\nFinished with result: '
                                                            'exit-code\nMain processes terminated with: '
                                                            'code=exited/status=217\n')
        return 0, 'Running as unit: run-u8.service\n', ''
    return answer


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    path = tmp_path / 'run' / 'jada-agent'
    monkeypatch.setattr(agent_host_info.unit_hardening, 'CACHE_DIR', str(path))
    return path


def test_hardening_the_host_cannot_apply_is_left_out_with_a_warning(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing('ProtectKernelTunables'))
    result = run(host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'jada', 'unit_content': DESIRED_UNIT,
                                    'hardening': HARDENING}))

    unit = result['desired_unit']
    assert 'content' not in unit
    assert unit['sha256'] == hashlib.sha256(b'[Service]\nUser=jada\nNoNewPrivileges=yes\nProtectSystem=full\n').hexdigest()
    assert [(item['directive'], item['value'], item['failure']) for item in unit['left_out']] == [
        ('ProtectKernelTunables', 'yes', 'status=217')]
    assert any('ProtectKernelTunables=yes is left out' in warning for warning in result['plan']['warnings'])
    # The unit the plan compares is the one it would install: the host's differs from it.
    assert result['plan']['unit'] is True
    # Once with the whole set, then each directive alone, as the unit's user.
    probes = host.commands.called('systemd-run')
    assert len(probes) == 4 and all('User=jada' in argv for argv in probes)


def test_a_host_that_applies_all_of_it_costs_one_probe_then_none_this_boot(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing())
    args = host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'jada', 'unit_content': DESIRED_UNIT,
                              'hardening': HARDENING})
    first = run(args)
    second = run(args)

    assert first['desired_unit']['sha256'] == hashlib.sha256(DESIRED_UNIT.encode()).hexdigest()
    assert first['desired_unit']['left_out'] == []
    assert second['desired_unit'] == first['desired_unit']
    assert len(host.commands.called('systemd-run')) == 1


def test_the_answer_is_reused_from_the_cache_even_when_directives_were_left_out(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing('ProtectKernelTunables'))
    args = host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'jada', 'unit_content': DESIRED_UNIT,
                              'hardening': HARDENING})
    first = run(args)
    calls = len(host.commands.called('systemd-run'))
    second = run(args)

    assert second['desired_unit'] == first['desired_unit']
    assert len(host.commands.called('systemd-run')) == calls


def test_check_mode_probes_but_keeps_no_answer(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing('ProtectKernelTunables'))
    result = run(host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'jada', 'unit_content': DESIRED_UNIT,
                                    'hardening': HARDENING}), check_mode=True)

    assert [item['directive'] for item in result['desired_unit']['left_out']] == ['ProtectKernelTunables']
    assert not cache_dir.exists()


def test_a_service_user_not_created_yet_is_probed_as_nobody(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing())
    run(host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'not-yet', 'unit_content': DESIRED_UNIT,
                           'hardening': HARDENING}))

    assert [argv for argv in host.commands.called('systemd-run') if 'User=nobody' in argv]


def test_without_unit_content_nothing_is_probed(host, run, cache_dir):
    result = run(host.args(desired={'model': 'claude-sonnet-4-6'}))

    assert 'desired_unit' not in result
    assert host.commands.called('systemd-run') == []


def test_the_unit_text_never_reaches_the_result(host, run, cache_dir):
    host.commands.on('systemd-run', systemd_run_refusing('ProtectKernelTunables'))
    unit = DESIRED_UNIT + 'Environment=API_TOKEN=%s\n' % UNIT_SECRET
    result = run(host.args(desired={'model': 'claude-sonnet-4-6', 'user': 'jada', 'unit_content': unit,
                                    'hardening': HARDENING}))

    assert result['desired_unit']['left_out'][0]['directive'] == 'ProtectKernelTunables'
    assert UNIT_SECRET not in json.dumps(dict(result))
