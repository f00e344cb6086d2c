# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, strategies as st

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.module_utils import model_resolution
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import (
    write_file,
    EXEC_START,
    JOURNAL_BOOT_ID,
    FakeProc,
    as_journal_bytes,
    format_show,
    journal_line,
    proc_limits_text,
    running_service,
)


SECRET = 'sk-ant-api03-SECRET-never-print-me'

# The brief's example: ExecStart= of systemd 252 for a stopped unit with a --model flag.
EXEC_START_WITH_MODEL = ('{ path=/opt/jada/bin/claude ; argv[]=/opt/jada/bin/claude --dangerously-skip-permissions '
                         '--model claude-haiku-4-5 ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 '
                         '; code=(null) ; status=0/0 }')


class StubModule(object):
    """Just enough of AnsibleModule for the host readers: run_command answers, fail_json raises."""

    class Failed(Exception):
        pass

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def run_command(self, argv, **kwargs):
        self.calls.append(list(argv))
        return self.answers[argv[0]]

    def fail_json(self, msg, **kwargs):
        raise self.Failed(msg, kwargs)


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    proc = FakeProc(tmp_path / 'proc')
    monkeypatch.setattr(agent_host, 'PROC', proc.root)
    return proc


# --- parse_show -------------------------------------------------------------------------------------

def test_parse_show_reads_a_running_simple_service():
    show = agent_host.parse_show(format_show(running_service()))

    assert show['LoadState'] == 'loaded'
    assert show['ActiveState'] == 'active'
    assert show['SubState'] == 'running'
    assert show['MainPID'] == '812'
    assert show['NRestarts'] == '0'
    assert show['LimitNOFILE'] == '65536'
    assert show['ActiveEnterTimestamp'] == 'Sun 2026-11-22 08:32:30 UTC'
    assert show['UID'] == '[not set]'


def test_parse_show_splits_at_the_first_equals_sign_only():
    show = agent_host.parse_show(format_show(running_service()))

    assert show['ExecStart'] == EXEC_START
    assert show['Environment'] == 'HOME=/var/lib/jada "JADA_GREETING=hello world"'


def test_parse_show_keeps_every_line_of_a_repeated_property():
    # systemctl prints one EnvironmentFiles= line per file; the last one must not hide the others.
    text = format_show(running_service(EnvironmentFiles=[
        '/etc/jada/jada-agent.env (ignore_errors=no)',
        '/etc/jada/secrets.env (ignore_errors=yes)',
    ]))

    show = agent_host.parse_show(text)

    assert agent_host.environment_files(show['EnvironmentFiles']) == ['/etc/jada/jada-agent.env', '/etc/jada/secrets.env']


def test_parse_show_ignores_lines_without_equals_sign():
    assert agent_host.parse_show('\nActiveState=active\n\ngarbage\n') == {'ActiveState': 'active'}


def test_parse_show_keeps_empty_values():
    assert agent_host.parse_show('DropInPaths=\nResult=success\n') == {'DropInPaths': '', 'Result': 'success'}


# --- ExecStart and --model -------------------------------------------------------------------------

def test_exec_start_argv_of_a_stopped_unit():
    assert agent_host.exec_start_argv(EXEC_START_WITH_MODEL) == [
        '/opt/jada/bin/claude', '--dangerously-skip-permissions', '--model', 'claude-haiku-4-5']


def test_exec_start_argv_of_a_running_unit_ignores_the_status_fields():
    assert agent_host.exec_start_argv(EXEC_START) == ['/opt/jada/bin/claude', '--dangerously-skip-permissions']


def test_exec_start_argv_takes_the_first_of_several_commands():
    second = EXEC_START_WITH_MODEL.replace('/opt/jada/bin/claude --dangerously', '/usr/bin/true --dangerously')
    show = agent_host.parse_show(format_show({'ExecStart': [EXEC_START, second]}))

    assert agent_host.exec_start_argv(show['ExecStart']) == ['/opt/jada/bin/claude', '--dangerously-skip-permissions']


@pytest.mark.parametrize('value', [None, '', '[not set]', '{ path=/bin/true ; ignore_errors=no }'])
def test_exec_start_argv_without_a_command_is_empty(value):
    assert agent_host.exec_start_argv(value) == []


def test_exec_start_argv_takes_quotes_literally():
    # ExecStart=/opt/jada/bin/claude --append-system-prompt "Jada's" --model claude-haiku-4-5 --append-system-prompt "it's"
    # systemctl prints the argv joined with spaces, unquoted: the apostrophes must not swallow --model.
    value = ('{ path=/opt/jada/bin/claude ; argv[]=/opt/jada/bin/claude --append-system-prompt Jada\'s --model '
             'claude-haiku-4-5 --append-system-prompt it\'s ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] '
             '; pid=0 ; code=(null) ; status=0/0 }')

    argv = agent_host.exec_start_argv(value)

    assert argv == ['/opt/jada/bin/claude', '--append-system-prompt', "Jada's", '--model', 'claude-haiku-4-5',
                    '--append-system-prompt', "it's"]
    assert model_resolution.last_flag(argv, '--model') == 'claude-haiku-4-5'


@pytest.mark.parametrize('argv, expected', [
    (['/opt/jada/bin/claude', '--model', 'claude-haiku-4-5'], 'claude-haiku-4-5'),
    (['/opt/jada/bin/claude', '--model=claude-opus-4-1', '--verbose'], 'claude-opus-4-1'),
    (['/opt/jada/bin/claude', '--model', 'opus', '--model=sonnet'], 'sonnet'),
    (['/opt/jada/bin/claude', '--dangerously-skip-permissions'], None),
    (['/opt/jada/bin/claude', '--model'], None),
    (['/opt/jada/bin/claude', '--models', 'x', '--model-fallback=y'], None),
    ([], None),
])
def test_the_last_model_flag_counts(argv, expected):
    assert model_resolution.last_flag(argv, '--model') == expected


# --- Environment= and EnvironmentFiles= ------------------------------------------------------------

def test_parse_environment_unquotes_like_systemctl_quotes():
    # systemctl show quotes an assignment with blanks or special characters in double quotes.
    value = ('HOME=/var/lib/jada "JADA_GREETING=hello world" ANTHROPIC_MODEL=claude-opus-4-1 '
             '"JADA_NOTE=say \\"hi\\" for \\$5"')

    assert agent_host.parse_environment(value) == {
        'HOME': '/var/lib/jada',
        'JADA_GREETING': 'hello world',
        'ANTHROPIC_MODEL': 'claude-opus-4-1',
        'JADA_NOTE': 'say "hi" for $5',
    }


def test_parse_environment_last_assignment_wins():
    assert agent_host.parse_environment('ANTHROPIC_MODEL=opus ANTHROPIC_MODEL=sonnet')['ANTHROPIC_MODEL'] == 'sonnet'


def test_parse_environment_keeps_equals_signs_in_values():
    assert agent_host.parse_environment('JADA_OPTS=--level=3') == {'JADA_OPTS': '--level=3'}


def systemd_quote(text):
    """shell_maybe_quote(text, 0) of systemd (src/basic/escape.c), as systemctl show uses for string lists."""
    if not any(char in '"\\`$*?[\'()<>|&;! \t\n\r' for char in text):
        return text
    quoted = []
    for char in text:
        if ord(char) < 32 or ord(char) == 127:
            named = {'\a': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'}
            quoted.append('\\' + named[char] if char in named else '\\x%02x' % ord(char))
        elif char in '"\\`$':
            quoted.append('\\' + char)
        else:
            quoted.append(char)
    return '"' + ''.join(quoted) + '"'


@given(st.dictionaries(
    st.from_regex(r'[A-Za-z_][A-Za-z0-9_]{0,15}', fullmatch=True),
    st.text(st.characters(exclude_categories=('Cs',), exclude_characters='\x00'), max_size=40),
    max_size=6))
def test_parse_environment_reverses_systemctl_quoting(environment):
    value = ' '.join(systemd_quote('%s=%s' % item) for item in environment.items())

    assert agent_host.parse_environment(value) == environment


def test_systemd_quote_emulation_matches_known_output():
    # Known systemctl show output for Environment="JADA_GREETING=hello world" JADA_COST=$5 "JADA_TAB=a<TAB>b".
    assert systemd_quote('JADA_GREETING=hello world') == '"JADA_GREETING=hello world"'
    assert systemd_quote('JADA_COST=$5') == '"JADA_COST=\\$5"'
    assert systemd_quote('JADA_TAB=a\tb') == '"JADA_TAB=a\\tb"'
    assert systemd_quote('HOME=/var/lib/jada') == 'HOME=/var/lib/jada'


@pytest.mark.parametrize('value', [None, ''])
def test_parse_environment_of_nothing_is_empty(value):
    assert agent_host.parse_environment(value) == {}


def test_parse_environment_decodes_control_characters():
    assert agent_host.parse_environment('"JADA_BANNER=line 1\\nline\\t2\\x1b[0m" "JADA_PATH=C:\\\\jada"') == {
        'JADA_BANNER': 'line 1\nline\t2\x1b[0m',
        'JADA_PATH': 'C:\\jada',
    }


def test_parse_environment_skips_a_stray_quote():
    assert agent_host.parse_environment('A="b ANTHROPIC_MODEL=opus') == {'A': '', 'ANTHROPIC_MODEL': 'opus'}


def test_environment_files_of_one_file():
    assert agent_host.environment_files('/etc/jada/jada-agent.env (ignore_errors=no)') == ['/etc/jada/jada-agent.env']


def test_environment_files_of_an_optional_file():
    # EnvironmentFile=-/etc/jada/local.env: systemd drops the dash and says ignore_errors=yes.
    assert agent_host.environment_files('/etc/jada/local.env (ignore_errors=yes)') == ['/etc/jada/local.env']


@pytest.mark.parametrize('value', [None, '', '[not set]'])
def test_environment_files_of_nothing_is_empty(value):
    assert agent_host.environment_files(value) == []


ENV_FILE = (
    '# Managed by jada.agent\n'
    'ANTHROPIC_API_KEY=' + SECRET + '\n'
    '; ANTHROPIC_MODEL=commented-out-with-semicolon\n'
    '#ANTHROPIC_MODEL=commented-out\n'
    '\n'
    'ANTHROPIC_MODEL=claude-haiku-4-5\n'
    'JADA_GREETING="hello world"\n'
)


def test_env_file_value_reads_only_the_key():
    assert agent_host.parse_env_file_values(ENV_FILE, ('ANTHROPIC_MODEL',)).get('ANTHROPIC_MODEL') == 'claude-haiku-4-5'


def test_env_file_value_of_a_missing_key_is_none():
    assert agent_host.parse_env_file_values(ENV_FILE, ('ANTHROPIC_SMALL_FAST_MODEL',)).get('ANTHROPIC_SMALL_FAST_MODEL') is None


def test_env_file_value_last_assignment_wins():
    text = 'ANTHROPIC_MODEL=claude-opus-4-1\nANTHROPIC_MODEL="claude-sonnet-4-6"\n'
    assert agent_host.parse_env_file_values(text, ('ANTHROPIC_MODEL',)).get('ANTHROPIC_MODEL') == 'claude-sonnet-4-6'


@pytest.mark.parametrize('line, expected', [
    ('ANTHROPIC_MODEL="claude-sonnet-4-6"', 'claude-sonnet-4-6'),
    ("ANTHROPIC_MODEL='claude-sonnet-4-6'", 'claude-sonnet-4-6'),
    ('  ANTHROPIC_MODEL = claude-sonnet-4-6  ', 'claude-sonnet-4-6'),
    ('ANTHROPIC_MODEL=claude-sonnet-4-6\r', 'claude-sonnet-4-6'),
    ('ANTHROPIC_MODEL=', ''),
    ('ANTHROPIC_MODEL_FALLBACK=claude-sonnet-4-6', None),
    ('MY_ANTHROPIC_MODEL=claude-sonnet-4-6', None),
    # systemd does not know "export": the key is "export ANTHROPIC_MODEL", which is no variable.
    ('export ANTHROPIC_MODEL=claude-sonnet-4-6', None),
])
def test_env_file_value_syntax(line, expected):
    assert agent_host.parse_env_file_values(line + '\n', ('ANTHROPIC_MODEL',)).get('ANTHROPIC_MODEL') == expected


def test_env_file_value_never_returns_another_value():
    assert agent_host.parse_env_file_values(ENV_FILE, ('ANTHROPIC_MODEL',)).get('ANTHROPIC_MODEL') != SECRET
    assert agent_host.parse_env_file_values('ANTHROPIC_MODEL\nANTHROPIC_API_KEY=' + SECRET, ('ANTHROPIC_MODEL',)).get('ANTHROPIC_MODEL') is None


# --- limits -----------------------------------------------------------------------------------------

def test_parse_limits_of_linux():
    assert agent_host.parse_limits(proc_limits_text(nofile=(1024, 524288), nproc=(62811, 62811))) == {
        'nofile': (1024, 524288),
        'nproc': (62811, 62811),
    }


def test_parse_limits_keeps_unlimited_as_text():
    text = proc_limits_text().replace('Max open files            65536                65536',
                                      'Max open files            unlimited            unlimited')
    assert agent_host.parse_limits(text)['nofile'] == ('unlimited', 'unlimited')


def test_parse_limits_of_nothing_is_empty():
    assert agent_host.parse_limits('') == {}


@pytest.mark.parametrize('value, expected', [
    ('65536', 65536),
    ('1048576', 1048576),
    ('infinity', 'infinity'),
    ('18446744073709551615', 'infinity'),
    ('', None),
    (None, None),
    ('[not set]', '[not set]'),
])
def test_systemd_limit(value, expected):
    assert agent_host.systemd_limit(value) == expected


def test_read_int_of_a_proc_style_file(tmp_path):
    path = tmp_path / 'nr_open'
    path.write_text('1048576\n')
    assert agent_host.read_int(str(path)) == 1048576


def test_read_int_of_a_missing_or_garbled_file_is_none(tmp_path):
    garbled = tmp_path / 'garbled'
    garbled.write_text('lots\n')
    assert agent_host.read_int(str(tmp_path / 'missing')) is None
    assert agent_host.read_int(str(garbled)) is None


def test_process_limits_reads_proc(fake_proc):
    fake_proc.process(812, nofile=(20000, 40000))

    assert agent_host.process_limits(812)['nofile'] == (20000, 40000)
    assert agent_host.process_limits('812')['nofile'] == (20000, 40000)


@pytest.mark.parametrize('pid', [0, '0', None, 4242])
def test_process_limits_of_no_or_a_gone_process_is_empty(fake_proc, pid):
    assert agent_host.process_limits(pid) == {}


def test_pid_alive(fake_proc):
    fake_proc.process(812)

    assert agent_host.pid_alive(812) is True
    assert agent_host.pid_alive(813) is False
    assert agent_host.pid_alive(0) is False
    assert agent_host.pid_alive('0') is False


def test_proc_path_follows_the_proc_constant(monkeypatch):
    assert agent_host.proc_path('sys', 'fs', 'nr_open') == '/proc/sys/fs/nr_open'
    monkeypatch.setattr(agent_host, 'PROC', '/elsewhere')
    assert agent_host.proc_path(812, 'limits') == '/elsewhere/812/limits'


# --- files ------------------------------------------------------------------------------------------

def test_file_sha256_of_the_bytes(tmp_path):
    data = b'[Service]\nLimitNOFILE=65536\n'
    path = tmp_path / '50-limits.conf'
    path.write_bytes(data)

    assert agent_host.file_sha256(str(path)) == hashlib.sha256(data).hexdigest()


def test_file_sha256_of_a_missing_file_is_none(tmp_path):
    assert agent_host.file_sha256(str(tmp_path / 'missing')) is None


def test_dropin_digests_only_conf_files(tmp_path):
    (tmp_path / '50-limits.conf').write_bytes(b'[Service]\nLimitNOFILE=65536\n')
    (tmp_path / '10-env.conf').write_bytes(b'[Service]\nEnvironment=A=1\n')
    (tmp_path / '50-limits.conf.bak').write_bytes(b'old')
    (tmp_path / 'README').write_bytes(b'x')

    digests = agent_host.dropin_digests(str(tmp_path))

    assert digests == {
        '10-env.conf': hashlib.sha256(b'[Service]\nEnvironment=A=1\n').hexdigest(),
        '50-limits.conf': hashlib.sha256(b'[Service]\nLimitNOFILE=65536\n').hexdigest(),
    }


def test_dropin_digests_of_a_missing_directory_is_empty(tmp_path):
    assert agent_host.dropin_digests(str(tmp_path / 'jada-agent.service.d')) == {}


# --- settings files ---------------------------------------------------------------------------------

SETTINGS = (
    '{\n'
    '  "model": "claude-sonnet-4-6",\n'
    '  "env": {\n'
    '    "ANTHROPIC_API_KEY": "' + SECRET + '"\n'
    '  }\n'
    '}\n'
)


def test_settings_model_reads_the_model(tmp_path):
    path = tmp_path / 'settings.json'
    path.write_text(SETTINGS)

    assert agent_host.settings_model(str(path)) == {
        'path': str(path), 'real_path': str(path), 'exists': True, 'model': 'claude-sonnet-4-6', 'error': None}


def test_settings_model_without_a_model(tmp_path):
    path = tmp_path / 'settings.json'
    path.write_text('{"permissions": {"allow": []}}')

    entry = agent_host.settings_model(str(path))

    assert (entry['exists'], entry['model'], entry['error']) == (True, None, None)


def test_settings_model_of_a_missing_file(tmp_path):
    entry = agent_host.settings_model(str(tmp_path / 'settings.json'))

    assert (entry['exists'], entry['model'], entry['error']) == (False, None, None)


def test_settings_model_follows_a_symlink(tmp_path):
    target = tmp_path / 'shared' / 'settings.json'
    target.parent.mkdir()
    target.write_text(SETTINGS)
    link = tmp_path / 'settings.json'
    link.symlink_to(target)

    entry = agent_host.settings_model(str(link))

    assert entry['path'] == str(link)
    assert entry['real_path'] == str(target)
    assert entry['model'] == 'claude-sonnet-4-6'


def test_settings_model_expands_the_home_directory(tmp_path, monkeypatch):
    home = tmp_path / 'home' / 'jada'
    (home / '.claude').mkdir(parents=True)
    (home / '.claude' / 'settings.json').write_text(SETTINGS)
    monkeypatch.setenv('HOME', str(home))

    entry = agent_host.settings_model('~/.claude/settings.json')

    assert entry['path'] == '~/.claude/settings.json'
    assert entry['real_path'] == str(home / '.claude' / 'settings.json')
    assert entry['model'] == 'claude-sonnet-4-6'


def test_settings_model_error_names_path_line_and_column_but_no_content(tmp_path):
    path = tmp_path / 'settings.json'
    path.write_text('{\n  "model": "claude-sonnet-4-6",\n  "env": {"ANTHROPIC_API_KEY": "' + SECRET + '",}\n}\n')

    entry = agent_host.settings_model(str(path))

    assert entry['model'] is None
    assert entry['error'].startswith(str(path) + ': line 3, column ')
    assert 'trailing comma' in entry['error']
    assert SECRET not in json.dumps(entry)


def test_settings_model_of_invalid_utf8(tmp_path):
    path = tmp_path / 'settings.json'
    path.write_bytes(b'{"model": "claude-\xff"}')

    entry = agent_host.settings_model(str(path))

    assert entry['error'] == '%s: line 1, column 19: invalid UTF-8 byte sequence; settings files must be UTF-8 encoded' % path


def test_settings_model_of_a_directory_cannot_be_read(tmp_path):
    entry = agent_host.settings_model(str(tmp_path))

    assert entry['model'] is None
    assert entry['error'].startswith(str(tmp_path) + ': cannot be read: ')


# override_candidates() is gone: it listed ~/.claude/settings.local.json, which the real CLI never reads
# (model_resolution.source_plan decides the sources now; these tests cover reading them).

def unit_show(tmp_path, **extra):
    show = {'ExecStart': '{ path=/opt/jada/bin/claude ; argv[]=/opt/jada/bin/claude -p --verbose ; ignore_errors=no }',
            'Environment': 'HOME=%s ANTHROPIC_API_KEY=sk-ant-secret' % (tmp_path / 'home'),
            'EnvironmentFiles': '', 'WorkingDirectory': str(tmp_path / 'srv'), 'User': 'jada'}
    show.update(extra)
    return show


def test_model_sources_follow_the_unit(tmp_path):
    managed = tmp_path / 'claude-code'
    (managed / 'managed-settings.d').mkdir(parents=True)
    (managed / 'managed-settings.d' / '20-model.json').write_text('{}')
    (managed / 'managed-settings.d' / '10-base.json').write_text('{}')
    (managed / 'managed-settings.d' / 'notes.txt').write_text('')

    argv, layers, sources = agent_host.model_sources(unit_show(tmp_path), 'jada-agent', str(managed))

    assert argv == ['/opt/jada/bin/claude', '-p', '--verbose']
    assert layers == [('the environment of jada-agent', {'HOME': str(tmp_path / 'home')})]
    assert [(source['scope'], source['path']) for source in sources] == [
        ('user', str(tmp_path / 'home' / '.claude' / 'settings.json')),
        ('project', str(tmp_path / 'srv' / '.claude' / 'settings.json')),
        ('local', str(tmp_path / 'srv' / '.claude' / 'settings.local.json')),
        ('managed', str(managed / 'managed-settings.json')),
        ('managed', str(managed / 'managed-settings.d' / '10-base.json')),
        ('managed', str(managed / 'managed-settings.d' / '20-model.json')),
    ]
    assert [source['text'] for source in sources] == [None, None, None, None, '{}', '{}']


def test_environment_files_apply_after_environment_and_keep_only_model_variables(tmp_path):
    env_file = tmp_path / 'agent.env'
    env_file.write_text('ANTHROPIC_API_KEY=sk-ant-secret\nANTHROPIC_MODEL="claude-haiku-4-5"\nCLAUDE_CONFIG_DIR=/cfg\n')
    show = unit_show(tmp_path, EnvironmentFiles='%s (ignore_errors=no) -%s (ignore_errors=yes)' % (env_file, tmp_path / 'gone'))

    layers = agent_host.unit_environment_layers(show, 'jada-agent')

    assert layers == [('the environment of jada-agent', {'HOME': str(tmp_path / 'home')}),
                      ('%s (EnvironmentFile of jada-agent)' % env_file, {'ANTHROPIC_MODEL': 'claude-haiku-4-5',
                                                                         'CLAUDE_CONFIG_DIR': '/cfg'})]


@pytest.mark.parametrize('working_directory, expected', [
    ('/srv/agent', '/srv/agent'),
    ('-/srv/agent', '/srv/agent'),
    ('~', '/home/jada'),
    ('', '/'),
])
def test_unit_working_directory(working_directory, expected):
    assert agent_host.unit_working_directory({'WorkingDirectory': working_directory}, '/home/jada') == expected


def test_settings_source_with_a_byte_order_mark_is_read_without_it(tmp_path):
    path = tmp_path / 'settings.json'
    path.write_bytes(b'\xef\xbb\xbf{"model": "sonnet"}')

    assert agent_host.read_settings_source('local', str(path))['text'] == '{"model": "sonnet"}'


def test_settings_source_that_is_a_directory_has_an_error(tmp_path):
    source = agent_host.read_settings_source('project', str(tmp_path))

    assert source['text'] is None and source['error'].startswith('cannot be read: ')


# --- systemctl show through run_command --------------------------------------------------------------

def test_systemctl_show_asks_for_the_properties_and_parses_them():
    module = StubModule({'systemctl': (0, format_show(running_service(), agent_host.SHOW_PROPERTIES), '')})

    show = agent_host.systemctl_show(module, 'jada-agent.service')

    assert module.calls == [['systemctl', 'show', 'jada-agent.service', '--property', ','.join(agent_host.SHOW_PROPERTIES)]]
    assert show['MainPID'] == '812'
    assert 'Type' not in show


def test_systemctl_show_failure_fails_the_module_with_its_message():
    module = StubModule({'systemctl': (1, '', 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\n')})

    with pytest.raises(StubModule.Failed) as caught:
        agent_host.systemctl_show(module, 'jada-agent.service', ('ActiveState',))

    msg, details = caught.value.args
    assert msg == ('systemctl show jada-agent.service failed: System has not been booted with systemd as init system '
                   '(PID 1). Can\'t operate.')
    assert details == {'rc': 1}


# --- journal ----------------------------------------------------------------------------------------

STARTED_MONOTONIC = 52791634
PREVIOUS_BOOT = '0f1e2d3c4b5a69788796a5b4c3d2e1f0'


def journal_text():
    return '\n'.join([
        # The last lines of the previous run, in the same second as the start.
        journal_line('Error: ECONNRESET while streaming the response', STARTED_MONOTONIC - 250000, pid='790'),
        # A line of an earlier boot with a larger monotonic time.
        journal_line('fatal: disk full', 99999999999, boot_id=PREVIOUS_BOOT, pid='640'),
        journal_line('Listening on /run/jada/agent.sock', STARTED_MONOTONIC + 1200),
        journal_line(as_journal_bytes('\x1b[31mError\x1b[39m: invalid settings in .claude/settings.json'),
                     STARTED_MONOTONIC + 90000),
        # journalctl writes null for a field over 4096 bytes when --all is missing.
        journal_line(None, STARTED_MONOTONIC + 95000),
        'not json at all',
        journal_line('Exactly at the start', STARTED_MONOTONIC),
    ]) + '\n'


def test_journal_entries_after_keeps_only_this_run():
    messages = agent_host.journal_entries_after(journal_text(), STARTED_MONOTONIC, JOURNAL_BOOT_ID)

    assert messages == [
        'Listening on /run/jada/agent.sock',
        'Error: invalid settings in .claude/settings.json',
        'Exactly at the start',
    ]


def test_journal_entries_after_without_a_boot_id_keeps_every_boot():
    messages = agent_host.journal_entries_after(journal_text(), STARTED_MONOTONIC, None)

    assert 'fatal: disk full' in messages
    assert 'Error: ECONNRESET while streaming the response' not in messages


def test_journal_entries_after_removes_terminal_colours():
    line = journal_line(as_journal_bytes('\x1b[1m\x1b[31mFatal\x1b[39m\x1b[22m: model not found\x1b[K'), STARTED_MONOTONIC)

    assert agent_host.journal_entries_after(line, STARTED_MONOTONIC, JOURNAL_BOOT_ID) == ['Fatal: model not found']


def test_journal_entries_after_decodes_invalid_utf8_with_replacement():
    line = journal_line([0x45, 0x72, 0x72, 0xff, 0x21], STARTED_MONOTONIC + 1)

    assert agent_host.journal_entries_after(line, STARTED_MONOTONIC, JOURNAL_BOOT_ID) == ['Err\ufffd!']


def test_journal_since_reads_json_of_the_unit_and_filters_by_boot(fake_proc):
    module = StubModule({'journalctl': (0, journal_text(), '')})

    messages = agent_host.journal_since(module, 'jada-agent', 'Sun 2026-11-22 08:32:30 UTC', STARTED_MONOTONIC)

    assert module.calls == [['journalctl', '--unit', 'jada-agent', '--since', 'Sun 2026-11-22 08:32:30 UTC',
                             '--output', 'json', '--all', '--no-pager']]
    assert 'fatal: disk full' not in messages
    assert messages[0] == 'Listening on /run/jada/agent.sock'


def test_journal_since_without_a_start_time_reads_nothing():
    module = StubModule({})

    assert agent_host.journal_since(module, 'jada-agent', '', 0) == []
    assert module.calls == []


def test_journal_since_ignores_a_failing_journalctl(fake_proc):
    module = StubModule({'journalctl': (1, '', 'Failed to open journal: Permission denied\n')})

    assert agent_host.journal_since(module, 'jada-agent', 'Sun 2026-11-22 08:32:30 UTC', STARTED_MONOTONIC) == []


def test_journal_since_without_a_readable_boot_id_keeps_every_boot(fake_proc):
    os.unlink(os.path.join(fake_proc.root, 'sys', 'kernel', 'random', 'boot_id'))
    module = StubModule({'journalctl': (0, journal_text(), '')})

    messages = agent_host.journal_since(module, 'jada-agent', 'Sun 2026-11-22 08:32:30 UTC', STARTED_MONOTONIC)

    assert 'fatal: disk full' in messages


# --- the Claude Code CLI ----------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('2.1.328 (Claude Code)\n', '2.1.328'),
    ('2.1.328 (Claude Code)', '2.1.328'),
    ('  2.1.328 (Claude Code)  \r\n', '2.1.328'),
    ('1.0.0-beta.3 (Claude Code)\n', '1.0.0-beta.3'),
    ('2.2.0-rc-1 (Claude Code)\n', '2.2.0-rc-1'),
    ('Warning: config migrated\n2.1.328 (Claude Code)\n', '2.1.328'),
    ('\x1b[1m2.1.328\x1b[22m (Claude Code)\n', '2.1.328'),
    ('2.1.328\n', None),
    ('2.1 (Claude Code)\n', None),
    ('claude 2.1.328 (Claude Code)\n', None),
    ('2.1.328 (Claude Desktop)\n', None),
    ('jada-agent: starting orchestrator pid=4242 model=claude-haiku-4-5 source=default\n', None),
    ('', None),
    (None, None),
])
def test_parse_version_output(text, expected):
    assert agent_host.parse_version_output(text) == expected


# The package.json files of the published 2.1.328 packages, byte for byte in what matters.
NATIVE_PACKAGE_JSON = (
    '{\n  "name": "@anthropic-ai/claude-code-linux-x64",\n  "version": "2.1.328",\n'
    '  "description": "Native binary for Claude Code on linux-x64",\n  "os": ["linux"],\n  "cpu": ["x64"],\n'
    '  "libc": ["glibc"],\n  "license": "SEE LICENSE IN LICENSE.md",\n  "files": ["claude", "README.md", "LICENSE.md"]\n}\n')
WRAPPER_PACKAGE_JSON = json.dumps({'name': '@anthropic-ai/claude-code', 'version': '2.1.328',
                                   'bin': {'claude': 'bin/claude.exe'}, 'type': 'module'})


@pytest.mark.parametrize('text, expected', [
    (NATIVE_PACKAGE_JSON, ('@anthropic-ai/claude-code-linux-x64', '2.1.328')),
    (NATIVE_PACKAGE_JSON.replace('linux-x64', 'linux-arm64-musl'), ('@anthropic-ai/claude-code-linux-arm64-musl', '2.1.328')),
    (WRAPPER_PACKAGE_JSON, ('@anthropic-ai/claude-code', '2.1.328')),
    ('{"name": "left-pad", "version": "1.3.0"}', (None, None)),
    ('{"name": "@anthropic-ai/sdk", "version": "0.40.0"}', (None, None)),
    ('{"name": "@anthropic-ai/claude-code-linux-x64"}', (None, None)),
    ('{"name": "@anthropic-ai/claude-code-linux-x64", "version": ""}', (None, None)),
    ('{"name": "@anthropic-ai/claude-code-linux-x64", "version": 2}', (None, None)),
    ('{"name": ["@anthropic-ai/claude-code"], "version": "2.1.328"}', (None, None)),
    ('["@anthropic-ai/claude-code", "2.1.328"]', (None, None)),
    ('{"name": "@anthropic-ai/claude-code-linux-x64", ', (None, None)),
    ('', (None, None)),
])
def test_cli_package(text, expected):
    assert agent_host.cli_package(text) == expected


def test_package_json_candidates_are_beside_then_above_the_binary():
    assert agent_host.package_json_candidates('/opt/jada/lib/claude-code/2.1.328-linux-x64/claude') == [
        '/opt/jada/lib/claude-code/2.1.328-linux-x64/package.json', '/opt/jada/lib/claude-code/package.json']


def layout_role(root):
    """The claude_code role's layout: a link to the binary of an extracted native package."""
    binary = write_file(root / 'lib' / '2.1.328-linux-x64' / 'claude', '#!/bin/sh\nexit 99\n', 0o755)
    write_file(binary.parent / 'package.json', NATIVE_PACKAGE_JSON)
    (root / 'bin').mkdir()
    (root / 'bin' / 'claude').symlink_to(os.path.join('..', 'lib', '2.1.328-linux-x64', 'claude'))
    return {'version': '2.1.328', 'package': '@anthropic-ai/claude-code-linux-x64', 'install_dir': str(binary.parent),
            'exists': True, 'real_path': str(binary)}


def layout_wrapper(root):
    """npm install -g @anthropic-ai/claude-code."""
    package = root / 'lib' / 'node_modules' / '@anthropic-ai' / 'claude-code'
    binary = write_file(package / 'bin' / 'claude.exe', 'ELF', 0o755)
    write_file(package / 'package.json', WRAPPER_PACKAGE_JSON)
    (root / 'bin').mkdir()
    (root / 'bin' / 'claude').symlink_to(binary)
    return {'version': '2.1.328', 'package': '@anthropic-ai/claude-code', 'install_dir': str(package),
            'exists': True, 'real_path': str(binary)}


def layout_plain(root):
    binary = write_file(root / 'bin' / 'claude', 'ELF', 0o755)
    return {'version': None, 'package': None, 'install_dir': None, 'exists': True, 'real_path': str(binary)}


def layout_foreign_package(root):
    binary = write_file(root / 'bin' / 'claude', 'ELF', 0o755)
    write_file(root / 'bin' / 'package.json', '{"name": "jada-tools", "version": "2.1.328"}')
    return {'version': None, 'package': None, 'install_dir': None, 'exists': True, 'real_path': str(binary)}


def layout_unreadable_package(root):
    expected = layout_role(root)
    (root / 'lib' / '2.1.328-linux-x64' / 'package.json').write_text('{"name": ')
    expected.update(version=None, package=None, install_dir=None)
    return expected


def layout_dangling(root):
    (root / 'bin').mkdir()
    (root / 'bin' / 'claude').symlink_to(root / 'lib' / '2.1.300-linux-x64' / 'claude')
    return {'version': None, 'package': None, 'install_dir': None, 'exists': False,
            'real_path': str(root / 'lib' / '2.1.300-linux-x64' / 'claude')}


def layout_missing(root):
    return {'version': None, 'package': None, 'install_dir': None, 'exists': False, 'real_path': str(root / 'bin' / 'claude')}


def layout_directory(root):
    (root / 'bin' / 'claude').mkdir(parents=True)
    write_file(root / 'bin' / 'package.json', NATIVE_PACKAGE_JSON)
    return {'version': None, 'package': None, 'install_dir': None, 'exists': True, 'real_path': str(root / 'bin' / 'claude')}


@pytest.mark.parametrize('layout', [layout_role, layout_wrapper, layout_plain, layout_foreign_package,
                                    layout_unreadable_package, layout_dangling, layout_missing, layout_directory])
def test_cli_install(tmp_path, layout):
    expected = layout(tmp_path)
    expected['path'] = str(tmp_path / 'bin' / 'claude')

    assert agent_host.cli_install(str(tmp_path / 'bin' / 'claude')) == expected


def test_cli_install_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    expected = layout_role(tmp_path)

    cli = agent_host.cli_install('~/bin/claude')

    assert cli['path'] == '~/bin/claude'
    assert (cli['real_path'], cli['version']) == (expected['real_path'], '2.1.328')


@pytest.fixture
def real_module():
    """An AnsibleModule whose run_command really runs programs."""
    with patch_module_args({}):
        return basic.AnsibleModule(argument_spec={})


def test_run_with_timeout_returns_what_the_program_printed(tmp_path, real_module):
    program = write_file(tmp_path / 'claude', '#!/bin/sh\necho "2.1.328 (Claude Code)"\n', 0o755)

    rc, out, err = agent_host.run_with_timeout(real_module, [str(program), '--version'], 5)

    assert (rc, agent_host.parse_version_output(out)) == (0, '2.1.328')


def test_run_with_timeout_kills_a_program_that_ignores_the_flag(tmp_path, real_module):
    # A wrapper that starts the long-running agent whatever its arguments.
    program = write_file(tmp_path / 'claude', '#!/bin/sh\necho "jada-agent: starting"\nexec sleep 60\n', 0o755)
    started = time.monotonic()

    rc, out, err = agent_host.run_with_timeout(real_module, [str(program), '--version'], 0.5)

    assert time.monotonic() - started < 10
    assert rc == -9
    assert agent_host.parse_version_output(out) is None


@pytest.mark.parametrize('content', [None, 'no interpreter line, not a binary\n'])
def test_run_with_timeout_of_a_program_that_cannot_run(tmp_path, real_module, content):
    program = tmp_path / 'claude'
    if content is not None:
        write_file(program, content, 0o755)

    rc, out, err = agent_host.run_with_timeout(real_module, [str(program), '--version'], 5)

    assert (rc, out) == (None, '')
    assert err


@pytest.mark.parametrize('mode, executable', [(0o755, True), (0o644, False)])
def test_is_executable_file(tmp_path, mode, executable):
    assert agent_host.is_executable_file(str(write_file(tmp_path / 'claude', 'x', mode))) is executable
    assert agent_host.is_executable_file(str(tmp_path)) is False


@pytest.mark.parametrize('first, second, looping', [
    ({'NRestarts': '0', 'SubState': 'running'}, {'NRestarts': '0', 'SubState': 'running'}, False),
    ({'NRestarts': '4', 'SubState': 'running'}, {'NRestarts': '4', 'SubState': 'running'}, False),
    ({'NRestarts': '4', 'SubState': 'running'}, {'NRestarts': '5', 'SubState': 'running'}, True),
    ({'NRestarts': '4', 'SubState': 'auto-restart'}, {'NRestarts': '4', 'SubState': 'running'}, True),
    ({'NRestarts': '4', 'SubState': 'running'}, {'NRestarts': '4', 'SubState': 'auto-restart'}, True),
    ({'NRestarts': '', 'SubState': 'dead'}, {'NRestarts': '', 'SubState': 'dead'}, False),
])
def test_restart_loop(first, second, looping):
    assert agent_host.restart_loop(first, second) is looping


def test_changed_after_compares_ctimes_with_the_monotonic_start(tmp_path):
    old, new, link = tmp_path / 'old', tmp_path / 'new', tmp_path / 'link'
    old.write_text('x')
    offset = agent_host.wall_clock_of_monotonic_zero()
    started = int((time.monotonic() + 0.2) * 1e6)
    time.sleep(0.4)
    new.write_text('y')
    link.symlink_to(old)
    paths = [str(old), str(new), str(link), str(tmp_path / 'missing'), str(new)]
    # A link counts when it or its target changed: here the link itself is new.
    assert agent_host.changed_after(paths, started, offset) == [str(new), str(link)]


@pytest.mark.parametrize('timestamp, before', [
    ('2026-11-30T08:51:23.123Z', True),
    ('2026-11-30T08:51:25Z', False),
    ('2026-11-30T09:51:23+01:00', True),
    ('2026-11-30T08:51:23', True),
    ('not a time', None),
    (None, None),
    (5, None),
])
def test_answered_before(timestamp, before):
    # 2026-11-30T08:51:24Z
    assert agent_host.answered_before(timestamp, 1796028684.0) is before


@pytest.mark.parametrize('messages, expected', [
    ([], []),
    (['Started jada-agent.service.', 'ready'], []),
    (['jada-agent.service: Main process exited, code=exited, status=217/USER',
      'jada-agent.service: Main process exited, code=exited, status=217/USER',
      'jada-agent.service: Failed to set up user namespacing: Operation not permitted'],
     ['jada-agent.service: Main process exited, code=exited, status=217/USER',
      'jada-agent.service: Failed to set up user namespacing: Operation not permitted']),
    (['jada-agent.service: Failed at step EXEC spawning /opt/jada/bin/claude: No such file or directory'],
     ['jada-agent.service: Failed at step EXEC spawning /opt/jada/bin/claude: No such file or directory']),
    # The agent's own words are not systemd's.
    (["Error: model claude-x not found", "jada-agent.service: Failed with result 'exit-code'."], []),
    (['a status=1/FAILURE', 'b status=2/INVALIDARGUMENT', 'c status=203/EXEC', 'd status=217/USER'],
     ['b status=2/INVALIDARGUMENT', 'c status=203/EXEC', 'd status=217/USER']),
])
def test_systemd_causes_are_systemd_s_own_lines_the_last_three(messages, expected):
    assert agent_host.systemd_causes(messages) == expected
