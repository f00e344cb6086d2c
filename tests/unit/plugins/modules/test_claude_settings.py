# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import errno
import json
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.jada.agent.plugins.module_utils import atomic_file
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import read_model
from ansible_collections.jada.agent.plugins.modules import claude_settings
from ansible_collections.jada.agent.tests.unit.plugins.modules import module_harness as harness


# <root>/ansible_collections/jada/agent/plugins/modules/claude_settings.py -> <root>
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(claude_settings.__file__)))))))


@pytest.fixture
def run_module(capsys):
    """Run ``claude_settings.main()`` with the given module args and return the harness's ModuleResult."""

    def run(args, check_mode=False, diff=False):
        return harness.run_module(claude_settings.main, args, capsys, check_mode=check_mode, diff=diff)

    return run


@pytest.fixture(autouse=True)
def isolated_managed_settings(tmp_path, monkeypatch):
    """Keep the host's real /etc/claude-code out of the tests; tests may populate this directory."""
    managed = tmp_path / 'managed'
    monkeypatch.setattr(claude_settings, 'MANAGED_SETTINGS_DIR', str(managed))
    return managed


@pytest.fixture
def subprocess_env():
    """Environment for a child Python that imports the collection the way this test does."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([COLLECTIONS_ROOT] + [entry for entry in sys.path if entry])
    return env


SECRET = 'sk-ant-api03-SECRET-never-print-me'

# What Claude Code itself writes: two-space indent, trailing newline, a secret in env.
SETTINGS = (
    '{\n'
    '  "$schema": "https://json.schemastore.org/claude-code-settings.json",\n'
    '  "model": "claude-haiku-4-5-20251001",\n'
    '  "advisorModel": "opus",\n'
    '  "env": {\n'
    '    "ANTHROPIC_API_KEY": "' + SECRET + '",\n'
    '    "ANTHROPIC_MODEL": "claude-opus-4-6"\n'
    '  },\n'
    '  "modelSettings": {\n'
    '    "model": "nested"\n'
    '  },\n'
    '  "permissions": {\n'
    '    "allow": [\n'
    '      "Bash(git diff:*)",\n'
    '      "Read(~/.zshrc)"\n'
    '    ]\n'
    '  },\n'
    '  "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "make fmt"}]}]},\n'
    '  "statusLine": "gr\u00fc\u00df \\u00e9t\\u00e9 \U0001f600"\n'
    '}\n'
)
NEW = 'claude-sonnet-4-6'
OLD = 'claude-haiku-4-5-20251001'


def write(path, text, mode=0o600):
    path.write_bytes(text.encode('utf-8') if isinstance(text, str) else text)
    os.chmod(str(path), mode)
    return path


def age(path, seconds=3600):
    """Push mtime into the past so that any rewrite is visible."""
    then = time.time() - seconds
    os.utime(str(path), (then, then))
    return os.stat(str(path))


def stray_files(directory, keep):
    return sorted(name for name in os.listdir(str(directory)) if name not in keep)


@pytest.fixture
def settings_file(tmp_path):
    directory = tmp_path / 'home' / '.claude'
    directory.mkdir(parents=True)
    return write(directory / 'settings.json', SETTINGS)


# -- minimal edit --------------------------------------------------------------------------------------------------------

def test_changes_only_the_model_value(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'model': NEW})
    assert result.exit_code == 0, result
    assert result['changed'] is True
    assert result['previous_model'] == OLD
    assert result['model'] == NEW
    assert result['created'] is False
    assert result['path'] == str(settings_file)
    # Was []: the file's own env.ANTHROPIC_MODEL beats its "model" (the real CLI 2.1.328 requested the env block's
    # model for a project file holding both), so it is reported.
    assert result['overridden_by'] == [{'path': str(settings_file), 'model': 'claude-opus-4-6', 'key': 'env.ANTHROPIC_MODEL'}]
    assert 'backup_file' not in result
    assert settings_file.read_text(encoding='utf-8') == SETTINGS.replace('"' + OLD + '"', '"' + NEW + '"')


@pytest.mark.parametrize('variant', ['tabs', 'four', 'crlf', 'no-newline', 'one-line'])
def test_every_other_byte_survives(run_module, tmp_path, variant):
    text = {
        'tabs': SETTINGS.replace('  ', '\t'),
        'four': SETTINGS.replace('  ', '    '),
        'crlf': SETTINGS.replace('\n', '\r\n'),
        'no-newline': SETTINGS.rstrip('\n'),
        'one-line': json.dumps(json.loads(SETTINGS), ensure_ascii=False),
    }[variant]
    path = write(tmp_path / 'settings.json', text)
    run_module({'path': str(path), 'model': NEW})
    data = path.read_bytes()
    start = text.encode('utf-8').index(OLD.encode('utf-8'))
    assert data == text.encode('utf-8')[:start] + NEW.encode('utf-8') + text.encode('utf-8')[start + len(OLD):]


@pytest.mark.parametrize('indent, expected_line', [
    ('  ', '  "model": "claude-sonnet-4-6"\n}\n'),
    ('    ', '    "model": "claude-sonnet-4-6"\n}\n'),
    ('\t', '\t"model": "claude-sonnet-4-6"\n}\n'),
])
def test_missing_key_is_added_last_in_the_files_indentation(run_module, tmp_path, indent, expected_line):
    text = SETTINGS.replace('  "model": "%s",\n' % OLD, '').replace('  ', indent)
    path = write(tmp_path / 'settings.json', text)
    result = run_module({'path': str(path), 'model': NEW})
    assert result['changed'] is True and result['previous_model'] is None
    new = path.read_text(encoding='utf-8')
    assert new.endswith(',\n' + expected_line)
    assert new[:len(text) - 3] == text[:-3]
    assert json.loads(new)['modelSettings'] == {'model': 'nested'}
    assert json.loads(new)['env']['ANTHROPIC_MODEL'] == 'claude-opus-4-6'


def test_nested_look_alikes_do_not_count(run_module, tmp_path):
    text = '{\n  "env": {"ANTHROPIC_MODEL": "x", "model": "y"},\n  "advisorModel": "opus",\n  "modelSettings": {"model": "z"}\n}\n'
    path = write(tmp_path / 'settings.json', text)
    result = run_module({'path': str(path), 'model': 'opus'})
    assert result['previous_model'] is None
    assert path.read_text() == text[:-3] + ',\n  "model": "opus"\n}\n'


# -- idempotence ---------------------------------------------------------------------------------------------------------

def test_converged_file_is_not_written(run_module, settings_file):
    before = age(settings_file)
    result = run_module({'path': str(settings_file), 'model': OLD})
    assert result['changed'] is False
    assert result['previous_model'] == OLD
    after = os.stat(str(settings_file))
    assert (after.st_mtime_ns, after.st_ino, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ino, before.st_ctime_ns)
    assert settings_file.read_text(encoding='utf-8') == SETTINGS


def test_escaped_equal_value_counts_as_converged(run_module, tmp_path):
    path = write(tmp_path / 'settings.json', '{"model": "s\\u006fnnet"}')
    before = age(path)
    assert run_module({'path': str(path), 'model': 'sonnet'})['changed'] is False
    assert os.stat(str(path)).st_mtime_ns == before.st_mtime_ns


def test_second_run_is_a_no_op(run_module, settings_file):
    assert run_module({'path': str(settings_file), 'model': NEW})['changed'] is True
    before = age(settings_file)
    assert run_module({'path': str(settings_file), 'model': NEW})['changed'] is False
    assert os.stat(str(settings_file)).st_mtime_ns == before.st_mtime_ns


# -- state=absent --------------------------------------------------------------------------------------------------------

def test_absent_removes_only_the_top_level_key(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'state': 'absent'})
    assert result['changed'] is True
    assert result['previous_model'] == OLD
    assert result['model'] is None
    assert settings_file.read_text(encoding='utf-8') == SETTINGS.replace('  "model": "%s",\n' % OLD, '')


def test_absent_without_key_is_a_no_op(run_module, tmp_path):
    path = write(tmp_path / 'settings.json', '{"a": 1}')
    before = age(path)
    result = run_module({'path': str(path), 'state': 'absent', 'model': 'ignored because absent'})
    assert result['changed'] is False and result['previous_model'] is None
    assert os.stat(str(path)).st_mtime_ns == before.st_mtime_ns


def test_absent_on_missing_file_creates_nothing(run_module, tmp_path):
    path = tmp_path / 'missing' / 'settings.json'
    result = run_module({'path': str(path), 'state': 'absent'})
    assert result.exit_code == 0
    assert result['changed'] is False and result['created'] is False
    assert not (tmp_path / 'missing').exists()


# -- create --------------------------------------------------------------------------------------------------------------

def test_create_missing_file_and_directories(run_module, tmp_path):
    path = tmp_path / 'home' / 'deep' / '.claude' / 'settings.json'
    (tmp_path / 'home').mkdir()
    result = run_module({'path': str(path), 'model': NEW})
    assert result['changed'] is True and result['created'] is True and result['previous_model'] is None
    assert path.read_bytes() == b'{\n  "model": "claude-sonnet-4-6"\n}\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / 'home' / 'deep')).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(path.parent)).st_mode) == 0o700
    assert stray_files(path.parent, ['settings.json']) == []


def test_create_honours_mode(run_module, tmp_path):
    path = tmp_path / 'settings.json'
    result = run_module({'path': str(path), 'model': NEW, 'mode': '0640'})
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640


def test_create_in_check_mode_writes_nothing(run_module, tmp_path):
    path = tmp_path / 'new' / 'settings.json'
    result = run_module({'path': str(path), 'model': NEW, 'mode': '0644'}, check_mode=True, diff=True)
    assert result['changed'] is True and result['created'] is True
    assert result['diff']['before'] == '' and result['diff']['after'] == 'model: "claude-sonnet-4-6"\n'
    assert not (tmp_path / 'new').exists()


def test_create_false_fails_on_missing_file(run_module, tmp_path):
    path = tmp_path / 'settings.json'
    result = run_module({'path': str(path), 'model': NEW, 'create': False})
    assert result.exit_code == 1 and result['failed'] is True
    assert str(path) in result['msg'] and 'create=false' in result['msg']
    assert not path.exists()


def test_tilde_expands_for_the_remote_user(run_module, tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    result = run_module({'path': '~/.claude/settings.json', 'model': NEW})
    assert result['path'] == str(tmp_path / '.claude' / 'settings.json')
    assert read_model((tmp_path / '.claude' / 'settings.json').read_text()) == NEW


# -- backup --------------------------------------------------------------------------------------------------------------

def test_backup_holds_the_original(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True})
    backup = result['backup_file']
    assert os.path.dirname(backup) == str(settings_file.parent)
    with open(backup, 'rb') as handle:
        assert handle.read() == SETTINGS.encode('utf-8')
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600


def test_no_backup_without_a_write(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'model': OLD, 'backup': True})
    assert 'backup_file' not in result
    assert stray_files(settings_file.parent, ['settings.json']) == []


# -- validation ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('model, fragment', [
    ('', 'non-empty'),
    ('claude sonnet', 'whitespace'),
    ('sonnet\n', 'whitespace'),
    ('sonnet\x1b[31m', 'control'),
    ('x' * 257, '257 characters'),
])
def test_invalid_model_fails_quoting_the_value(run_module, settings_file, model, fragment):
    before = age(settings_file)
    result = run_module({'path': str(settings_file), 'model': model})
    assert result.exit_code == 1
    assert fragment in result['msg']
    assert json.dumps(model[:40])[:-1] in result['msg']
    assert os.stat(str(settings_file)).st_mtime_ns == before.st_mtime_ns


def test_model_required_with_state_present(run_module, settings_file):
    result = run_module({'path': str(settings_file)})
    assert result.exit_code == 1 and 'model' in result['msg']


def test_allowed_models_rejects_before_touching_anything(run_module, tmp_path):
    path = tmp_path / 'dir' / 'settings.json'
    result = run_module({'path': str(path), 'model': 'opus', 'allowed_models': ['sonnet', 'haiku']})
    assert result.exit_code == 1
    assert '"opus" is not in allowed_models ("sonnet", "haiku")' in result['msg']
    assert not (tmp_path / 'dir').exists()


def test_allowed_models_rejects_before_reading(run_module, tmp_path):
    path = write(tmp_path / 'settings.json', '{broken')
    result = run_module({'path': str(path), 'model': 'opus', 'allowed_models': []})
    assert result.exit_code == 1 and 'allowed_models (empty)' in result['msg']


def test_allowed_models_accepts_listed_model(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'model': NEW, 'allowed_models': [NEW, OLD]})
    assert result['changed'] is True


# -- check and diff mode -------------------------------------------------------------------------------------------------

def test_check_mode_reports_without_writing(run_module, settings_file):
    before = age(settings_file)
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True}, check_mode=True)
    assert result['changed'] is True and result['previous_model'] == OLD
    assert 'backup_file' not in result
    assert os.stat(str(settings_file)).st_mtime_ns == before.st_mtime_ns
    assert settings_file.read_text(encoding='utf-8') == SETTINGS
    assert stray_files(settings_file.parent, ['settings.json']) == []


def test_diff_shows_only_the_model(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'model': NEW}, diff=True)
    assert result['diff'] == {
        'before': 'model: "%s"\n' % OLD,
        'after': 'model: "%s"\n' % NEW,
        'before_header': '%s (model key only)' % settings_file,
        'after_header': '%s (model key only)' % settings_file,
    }
    assert SECRET not in result.raw


def test_diff_for_absent(run_module, settings_file):
    result = run_module({'path': str(settings_file), 'state': 'absent'}, diff=True, check_mode=True)
    assert result['diff']['before'] == 'model: "%s"\n' % OLD and result['diff']['after'] == ''


def test_no_diff_unless_asked(run_module, settings_file):
    assert 'diff' not in run_module({'path': str(settings_file), 'model': NEW})


# -- file attributes ------------------------------------------------------------------------------------------------------

def test_existing_mode_is_kept(run_module, settings_file):
    os.chmod(str(settings_file), 0o640)
    run_module({'path': str(settings_file), 'model': NEW})
    assert stat.S_IMODE(os.stat(str(settings_file)).st_mode) == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason='changing the owner of a file needs root')
def test_existing_owner_is_kept(run_module, settings_file):
    os.chown(str(settings_file), 4242, 4343)
    run_module({'path': str(settings_file), 'model': NEW})
    info = os.stat(str(settings_file))
    assert (info.st_uid, info.st_gid) == (4242, 4343)


def test_mode_only_change_counts(run_module, settings_file):
    before = age(settings_file)
    checked = run_module({'path': str(settings_file), 'model': OLD, 'mode': '0640'}, check_mode=True, diff=True)
    assert checked['changed'] is True
    assert stat.S_IMODE(os.stat(str(settings_file)).st_mode) == 0o600
    result = run_module({'path': str(settings_file), 'model': OLD, 'mode': '0640'}, diff=True)
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(str(settings_file)).st_mode) == 0o640
    assert result['diff'][1] == {'before': {'path': str(settings_file), 'mode': '0600'},
                                 'after': {'path': str(settings_file), 'mode': '0640'}}
    assert os.stat(str(settings_file)).st_mtime_ns == before.st_mtime_ns
    assert run_module({'path': str(settings_file), 'model': OLD, 'mode': '0640'})['changed'] is False


# -- symbolic links ------------------------------------------------------------------------------------------------------

def test_symlink_is_followed_and_kept(run_module, tmp_path):
    dotfiles = tmp_path / 'dotfiles' / 'claude'
    dotfiles.mkdir(parents=True)
    target = write(dotfiles / 'settings.json', SETTINGS)
    claude_dir = tmp_path / 'home' / '.claude'
    claude_dir.mkdir(parents=True)
    link = claude_dir / 'settings.json'
    os.symlink(os.path.join('..', '..', 'dotfiles', 'claude', 'settings.json'), str(link))
    result = run_module({'path': str(link), 'model': NEW, 'backup': True})
    assert result['path'] == str(target)
    assert os.path.islink(str(link))
    assert os.readlink(str(link)) == os.path.join('..', '..', 'dotfiles', 'claude', 'settings.json')
    assert read_model(target.read_text(encoding='utf-8')) == NEW
    assert os.path.dirname(result['backup_file']) == str(dotfiles)
    assert stray_files(dotfiles, ['settings.json', os.path.basename(result['backup_file'])]) == []
    assert stray_files(claude_dir, ['settings.json']) == []


def test_dangling_symlink_fails_and_creates_nothing(run_module, tmp_path):
    link = tmp_path / 'settings.json'
    os.symlink(str(tmp_path / 'dotfiles' / 'settings.json'), str(link))
    result = run_module({'path': str(link), 'model': NEW})
    assert result.exit_code == 1
    assert 'symbolic link to a missing target' in result['msg'] and str(link) in result['msg']
    assert not (tmp_path / 'dotfiles').exists()
    assert os.path.islink(str(link))


def test_dangling_directory_link_fails(run_module, tmp_path):
    os.symlink(str(tmp_path / 'gone'), str(tmp_path / '.claude'))
    result = run_module({'path': str(tmp_path / '.claude' / 'settings.json'), 'model': NEW})
    assert result.exit_code == 1 and 'symbolic link to a missing target' in result['msg']
    assert result['msg'].startswith('%s: %s is a symbolic link' % (tmp_path / '.claude' / 'settings.json', tmp_path / '.claude'))
    assert not (tmp_path / 'gone').exists()


# -- invalid input ---------------------------------------------------------------------------------------------------------

INVALID = [
    ('comment', SETTINGS.replace('  "advisorModel"', '  // pinned by ops\n  "advisorModel"'), 4, 3, 'comments are not allowed'),
    ('trailing-comma', SETTINGS.replace('"Read(~/.zshrc)"\n', '"Read(~/.zshrc)",\n'), 15, 23, 'trailing comma'),
    ('truncated', SETTINGS[:200], 6, 26, 'unterminated string'),
    ('truncated-at-value', SETTINGS[:SETTINGS.index('"advisorModel"') + 16], 4, 19, 'unexpected end of file'),
    ('array', '[{"model": "x"}]\n', 1, 1, 'top level must be a JSON object'),
    ('model-number', '{\n  "model": 4\n}\n', 2, 12, 'must be a string, found a number'),
    ('model-object', '{\n  "model": {"name": "x"}\n}\n', 2, 12, 'found an object'),
    ('duplicate', SETTINGS.replace('  "advisorModel"', '  "model": "opus",\n  "advisorModel"'), 4, 3, 'duplicate top-level "model" key'),
    ('nan', '{"model": "x", "n": NaN}', 1, 21, 'NaN is not allowed'),
    ('bom', b'\xef\xbb\xbf' + SETTINGS.encode('utf-8'), 1, 1, 'byte order mark'),
    ('latin1', SETTINGS.replace('\u00fc', '?').encode('utf-8').replace(b'?', b'\xfc'), 19, 20, 'UTF-8'),
    ('empty', '', 1, 1, 'the file is empty'),
]


@pytest.mark.parametrize('name, content, line, column, fragment', INVALID, ids=[case[0] for case in INVALID])
@pytest.mark.parametrize('state', ['present', 'absent'])
def test_invalid_file_fails_and_stays_byte_identical(run_module, tmp_path, name, content, line, column, fragment, state):
    path = write(tmp_path / 'settings.json', content)
    original = path.read_bytes()
    before = age(path)
    result = run_module({'path': str(path), 'model': NEW, 'state': state, 'backup': True}, diff=True)
    assert result.exit_code == 1 and result['failed'] is True
    assert result['msg'].startswith('%s: line %d, column %d: ' % (path, line, column)), result['msg']
    assert fragment in result['msg']
    assert result['msg'].endswith('fix the file by hand - it was left unchanged')
    assert (result['line'], result['column']) == (line, column)
    assert path.read_bytes() == original
    assert os.stat(str(path)).st_mtime_ns == before.st_mtime_ns
    assert stray_files(tmp_path, ['settings.json', 'managed']) == []
    assert SECRET not in result.raw


def test_directory_fails(run_module, tmp_path):
    result = run_module({'path': str(tmp_path), 'model': NEW})
    assert result.exit_code == 1 and 'is a directory' in result['msg']


def test_fifo_fails_without_blocking(run_module, tmp_path):
    fifo = tmp_path / 'settings.json'
    os.mkfifo(str(fifo))
    result = run_module({'path': str(fifo), 'model': NEW})
    assert result.exit_code == 1 and 'not a regular file' in result['msg']


def test_unreadable_file_fails(run_module, settings_file, monkeypatch):
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(settings_file):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    # Running as root makes chmod 000 meaningless, so refuse the read the way the kernel would.
    monkeypatch.setattr(claude_settings, 'open', deny, raising=False)
    result = run_module({'path': str(settings_file), 'model': NEW})
    assert result.exit_code == 1
    assert result['msg'] == '%s: cannot read the file: Permission denied - it was left unchanged' % settings_file
    assert settings_file.read_text(encoding='utf-8') == SETTINGS


@pytest.mark.skipif(os.geteuid() == 0, reason='root can read any file')
def test_unreadable_file_fails_for_real(run_module, settings_file):
    os.chmod(str(settings_file), 0)
    result = run_module({'path': str(settings_file), 'model': NEW})
    assert result.exit_code == 1 and 'Permission denied' in result['msg']


def test_read_only_filesystem_fails_and_loses_nothing(run_module, settings_file, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(atomic_file.tempfile, 'mkstemp', read_only)
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True})
    assert result.exit_code == 1
    assert 'Read-only file system' in result['msg'] and 'it was left unchanged' in result['msg']
    assert settings_file.read_text(encoding='utf-8') == SETTINGS
    assert stray_files(settings_file.parent, ['settings.json']) == []


def test_failed_rename_leaves_no_temporary_file(run_module, settings_file, monkeypatch):
    def broken_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        raise Exception('Could not replace %r with %r.' % (dest, src))

    monkeypatch.setattr(claude_settings.AnsibleModule, 'atomic_move', broken_move)
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True})
    assert result.exit_code == 1 and 'could not replace the file' in result['msg']
    assert settings_file.read_text(encoding='utf-8') == SETTINGS
    assert stray_files(settings_file.parent, ['settings.json']) == []


def test_parent_is_a_file_fails(run_module, tmp_path):
    write(tmp_path / 'home', 'not a directory')
    result = run_module({'path': str(tmp_path / 'home' / '.claude' / 'settings.json'), 'model': NEW})
    assert result.exit_code == 1 and str(tmp_path / 'home') in result['msg']


# -- overridden_by -------------------------------------------------------------------------------------------------------

def test_local_and_managed_settings_are_reported(run_module, settings_file, isolated_managed_settings):
    write(settings_file.parent / 'settings.local.json', '{\n\t"model": "sonnet"\n}')
    (isolated_managed_settings / 'managed-settings.d').mkdir(parents=True)
    write(isolated_managed_settings / 'managed-settings.json', '{"model": "opus", "env": {"K": "%s"}}' % SECRET)
    write(isolated_managed_settings / 'managed-settings.d' / '10-model.json', '{"model": "haiku"}')
    write(isolated_managed_settings / 'managed-settings.d' / '20-other.json', '{"env": {}}')
    write(isolated_managed_settings / 'managed-settings.d' / 'notes.txt', '{"model": "ignored"}')
    result = run_module({'path': str(settings_file), 'model': NEW})
    # Highest precedence first (was local, managed, drop-in): the real CLI 2.1.328 requested an env block's model over
    # every "model" key, a drop-in's over managed-settings.json's, and managed-settings.json's over the local file's.
    assert result['overridden_by'] == [
        {'path': str(settings_file), 'model': 'claude-opus-4-6', 'key': 'env.ANTHROPIC_MODEL'},
        {'path': str(isolated_managed_settings / 'managed-settings.d' / '10-model.json'), 'model': 'haiku', 'key': 'model'},
        {'path': str(isolated_managed_settings / 'managed-settings.json'), 'model': 'opus', 'key': 'model'},
        {'path': str(settings_file.parent / 'settings.local.json'), 'model': 'sonnet', 'key': 'model'},
    ]
    assert len(result.warnings) == 4
    assert all('takes precedence over "model" in %s' % settings_file in warning for warning in result.warnings)
    assert '"sonnet"' in result.warnings[3]
    assert SECRET not in result.raw


def test_unparseable_override_warns_without_failing(run_module, settings_file, isolated_managed_settings):
    write(settings_file.parent / 'settings.local.json', '{"model": "sonnet",}')
    isolated_managed_settings.mkdir()
    write(isolated_managed_settings / 'managed-settings.json', '{"env": {"K": "%s"}' % SECRET)
    result = run_module({'path': str(settings_file), 'model': NEW})
    assert result.exit_code == 0 and result['changed'] is True
    assert [override['key'] for override in result['overridden_by']] == ['env.ANTHROPIC_MODEL']
    problems = result.warnings[1:]
    assert len(problems) == 2
    assert 'trailing comma' in problems[0] and 'line 1, column 19' in problems[0]
    # An invalid managed file stops the CLI at start (observed with 2.1.328), which the warning says.
    assert 'unexpected end of file' in problems[1] and 'exits at start' in problems[1]
    assert SECRET not in result.raw


def test_only_settings_json_has_a_local_override(run_module, tmp_path):
    path = write(tmp_path / 'settings.local.json', '{"model": "opus"}')
    write(tmp_path / 'other.json', '{}')
    result = run_module({'path': str(path), 'model': NEW})
    assert result['overridden_by'] == [] and result.warnings == []


def test_managed_file_does_not_override_itself(run_module, isolated_managed_settings):
    isolated_managed_settings.mkdir()
    path = write(isolated_managed_settings / 'managed-settings.json', '{"model": "opus"}')
    result = run_module({'path': str(path), 'model': NEW})
    assert result['changed'] is True and result['overridden_by'] == []


# -- secrets -------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('args, check_mode', [
    ({'model': NEW}, False),
    ({'model': NEW}, True),
    ({'model': OLD}, False),
    ({'state': 'absent', 'backup': True}, False),
    ({'model': 'bad model'}, False),
    ({'model': NEW, 'allowed_models': ['opus']}, False),
])
def test_secret_never_leaves_the_file(run_module, settings_file, args, check_mode):
    result = run_module(dict(args, path=str(settings_file)), check_mode=check_mode, diff=True)
    assert SECRET not in result.raw
    assert 'sk-ant' not in result.raw


# -- concurrent writers ----------------------------------------------------------------------------------------------------

WRITER = r'''
import json, sys
path, key, value = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path, encoding='utf-8') as handle:
    data = json.load(handle)
data[key] = value
data['model'] = 'opus'
with open(path + '.writer', 'w', encoding='utf-8') as handle:
    json.dump(data, handle, indent=2)
import os
os.replace(path + '.writer', path)
'''


def other_writer(path, key, value, env):
    """Rewrite the file from another process, the way the Claude Code CLI does on /model."""
    subprocess.run([sys.executable, '-c', WRITER, str(path), key, value], check=True, env=env)


def test_concurrent_rewrite_is_merged(run_module, settings_file, monkeypatch, subprocess_env):
    calls = []

    def rewrite_once(path):
        calls.append(path)
        if len(calls) == 1:
            other_writer(path, 'theme', 'dark', subprocess_env)

    monkeypatch.setattr(claude_settings, '_before_rename', rewrite_once)
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True})
    assert result.exit_code == 0 and result['changed'] is True
    assert len(calls) == 2
    assert result['previous_model'] == 'opus'
    data = json.loads(settings_file.read_text(encoding='utf-8'))
    assert data['theme'] == 'dark' and data['model'] == NEW
    assert data['env']['ANTHROPIC_API_KEY'] == SECRET
    with open(result['backup_file'], encoding='utf-8') as handle:
        assert json.load(handle)['theme'] == 'dark'
    assert stray_files(settings_file.parent, ['settings.json', os.path.basename(result['backup_file'])]) == []


def test_writer_that_never_stops_makes_the_module_give_up(run_module, settings_file, monkeypatch, subprocess_env):
    calls = []

    def rewrite_always(path):
        calls.append(path)
        other_writer(path, 'counter', str(len(calls)), subprocess_env)

    monkeypatch.setattr(claude_settings, '_before_rename', rewrite_always)
    result = run_module({'path': str(settings_file), 'model': NEW, 'backup': True})
    assert result.exit_code == 1
    assert len(calls) == claude_settings.MAX_ATTEMPTS
    assert 'kept changing' in result['msg'] and 'left as the other writer left it' in result['msg']
    data = json.loads(settings_file.read_text(encoding='utf-8'))
    assert data['counter'] == str(claude_settings.MAX_ATTEMPTS) and data['model'] == 'opus'
    assert stray_files(settings_file.parent, ['settings.json']) == []


def test_file_created_by_someone_else_meanwhile(run_module, tmp_path, monkeypatch):
    path = tmp_path / 'settings.json'

    def create_meanwhile(target):
        if not os.path.exists(target):
            write(path, '{\n    "theme": "dark"\n}\n')

    monkeypatch.setattr(claude_settings, '_before_rename', create_meanwhile)
    result = run_module({'path': str(path), 'model': NEW})
    assert result['created'] is False
    assert path.read_text() == '{\n    "theme": "dark",\n    "model": "claude-sonnet-4-6"\n}\n'


# -- killed mid-write ----------------------------------------------------------------------------------------------------

KILL_SCRIPT = r'''
import os, sys, time
from ansible.module_utils.testing import patch_module_args
from ansible_collections.jada.agent.plugins.modules import claude_settings

path, marker, managed = sys.argv[1], sys.argv[2], sys.argv[3]
claude_settings.MANAGED_SETTINGS_DIR = managed


def stall(target):
    # The temporary file is complete and fsynced; stop here until killed.
    with open(marker, 'w') as handle:
        handle.write(str(os.getpid()))
    time.sleep(60)


claude_settings._before_rename = stall
with patch_module_args({'path': path, 'model': 'claude-sonnet-4-6'}):
    claude_settings.main()
'''


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError('timed out')
        time.sleep(0.01)


def temp_files(directory):
    return [name for name in os.listdir(str(directory)) if name.endswith(claude_settings.TEMP_SUFFIX)]


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_killed_mid_write_leaves_the_old_file(run_module, settings_file, tmp_path, subprocess_env, signum):
    marker = tmp_path / 'stalled'
    process = subprocess.Popen(
        [sys.executable, '-c', KILL_SCRIPT, str(settings_file), str(marker), str(tmp_path / 'managed')],
        env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: marker.exists() and marker.read_text() or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        assert len(temp_files(settings_file.parent)) == 1
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signum, (out, err)
    assert out == b''
    assert settings_file.read_text(encoding='utf-8') == SETTINGS
    leftovers = temp_files(settings_file.parent)
    if signum == signal.SIGKILL:
        # Nothing can run on SIGKILL; the rename never happened, so only our dot-file may remain.
        assert len(leftovers) <= 1
        for name in leftovers:
            age(settings_file.parent / name, claude_settings.STALE_TEMP_SECONDS + 60)
        result = run_module({'path': str(settings_file), 'model': NEW})
        assert result['changed'] is True
        assert temp_files(settings_file.parent) == []
    else:
        assert leftovers == []
    assert stray_files(settings_file.parent, ['settings.json']) == []


LOOP_SCRIPT = r'''
import os, sys
from ansible.module_utils.testing import patch_module_args
from ansible_collections.jada.agent.plugins.modules import claude_settings

path, marker, managed = sys.argv[1], sys.argv[2], sys.argv[3]
claude_settings.MANAGED_SETTINGS_DIR = managed
sys.stdout = open(os.devnull, 'w')
count = 0
while True:
    for model in ('claude-sonnet-4-6', 'claude-haiku-4-5-20251001'):
        with patch_module_args({'path': path, 'model': model}):
            try:
                claude_settings.main()
            except SystemExit as exc:
                assert exc.code == 0
    count += 1
    if count == 3:
        open(marker, 'w').close()
'''


def test_random_sigkill_never_leaves_a_partial_file(settings_file, tmp_path, subprocess_env):
    big = json.loads(SETTINGS)
    big['permissions']['allow'] = ['Bash(tool-%d:*)' % index for index in range(20000)]
    text = json.dumps(big, indent=2, ensure_ascii=False) + '\n'
    write(settings_file, text)
    expected = {text.encode('utf-8'), text.replace(OLD, NEW).encode('utf-8')}
    rng = random.Random(1234)
    for attempt in range(4):
        marker = tmp_path / ('looping-%d' % attempt)
        process = subprocess.Popen(
            [sys.executable, '-c', LOOP_SCRIPT, str(settings_file), str(marker), str(tmp_path / 'managed')],
            env=subprocess_env, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: marker.exists() or process.poll() is not None)
            assert process.poll() is None, process.communicate()
            time.sleep(rng.uniform(0.0, 0.2))
            process.kill()
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert settings_file.read_bytes() in expected
        assert len(temp_files(settings_file.parent)) <= 1
        for name in temp_files(settings_file.parent):
            os.unlink(str(settings_file.parent / name))


def test_fresh_temporary_files_and_foreign_files_are_not_removed(tmp_path):
    target = write(tmp_path / 'settings.json', '{}')
    stale = write(tmp_path / ('.settings.json.abcd1234' + claude_settings.TEMP_SUFFIX), 'x')
    fresh = write(tmp_path / ('.settings.json.efgh5678' + claude_settings.TEMP_SUFFIX), 'x')
    foreign = write(tmp_path / '.settings.json.abcd1234.tmp', 'x')
    other = write(tmp_path / ('.other.json.abcd1234' + claude_settings.TEMP_SUFFIX), 'x')
    for path in (stale, foreign, other):
        age(path, claude_settings.STALE_TEMP_SECONDS + 60)
    claude_settings.remove_stale_temp_files(str(target))
    assert not stale.exists()
    assert fresh.exists() and foreign.exists() and other.exists()


def test_signal_handlers_are_restored(run_module, settings_file):
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP))
    run_module({'path': str(settings_file), 'model': NEW})
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


# -- property: real files through the whole module ------------------------------------------------------------------------

KEY_NAMES = st.text(max_size=6).filter(lambda key: key != 'model')
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    # Nested "model" keys are covered by the look-alike tests; here they would confuse the oracle below.
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEY_NAMES, children, max_size=3),
    max_leaves=8,
)
MODEL_NAMES = st.sampled_from(['sonnet', 'opus', 'sonnet[1m]', NEW, OLD, 'claude-haiku-4-5@20251001',
                               'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'mod\u00e8le-\u00e9t\u00e9'])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=st.dictionaries(KEY_NAMES, JSON_VALUES, max_size=5),
       old=st.one_of(st.none(), MODEL_NAMES), new=MODEL_NAMES, position=st.integers(0, 5),
       indent=st.sampled_from([None, 2, 4, '\t']), ensure_ascii=st.booleans(), newline=st.booleans())
def test_property_module_keeps_every_byte_outside_the_value(run_module, content, old, new, position, indent,
                                                            ensure_ascii, newline):
    content = dict(content, env={'ANTHROPIC_API_KEY': SECRET})
    if old is not None:
        items = list(content.items())
        items.insert(position % (len(items) + 1), ('model', old))
        content = dict(items)
    text = json.dumps(content, indent=indent, ensure_ascii=ensure_ascii) + ('\n' if newline else '')
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, 'settings.json')
        with open(path, 'wb') as handle:
            handle.write(text.encode('utf-8'))
        result = run_module({'path': path, 'model': new}, diff=True)
        with open(path, 'rb') as handle:
            data = handle.read()
    assert result['changed'] is (old != new)
    assert SECRET not in result.raw
    original = text.encode('utf-8')
    if old is None:
        assert data.startswith(original[:len(original) - (2 if indent is not None else 1) - len(b'\n' * newline)])
        assert json.loads(data.decode('utf-8')) == dict(content, model=new)
        assert list(json.loads(data.decode('utf-8'))) == list(content) + ['model']
    else:
        encoded_old = json.dumps(old, ensure_ascii=ensure_ascii).encode('utf-8')
        start = original.index(b'"model": ' + encoded_old) + len(b'"model": ')
        assert data == original[:start] + json.dumps(new, ensure_ascii=False).encode('utf-8') + original[start + len(encoded_old):] \
            or old == new and data == original


# -- pure helpers --------------------------------------------------------------------------------------------------------

def test_model_diff_quotes_with_json():
    assert claude_settings.model_diff('/p', None, 'a"b')['after'] == 'model: "a\\"b"\n'


def test_plan_for_missing_file():
    assert claude_settings.plan('/p', None, NEW) == (None, b'{\n  "model": "claude-sonnet-4-6"\n}\n')
    assert claude_settings.plan('/p', None, None) == (None, None)
    with pytest.raises(claude_settings.ModuleFailure):
        claude_settings.plan('/p', None, NEW, create=False)


def test_find_dangling_link(tmp_path):
    assert claude_settings.find_dangling_link(str(tmp_path / 'a' / 'b')) is None
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'a'))
    assert claude_settings.find_dangling_link(str(tmp_path / 'a' / 'b')) == str(tmp_path / 'a')
    os.symlink(str(tmp_path / 'loop'), str(tmp_path / 'loop'))
    assert claude_settings.find_dangling_link(str(tmp_path / 'loop')) == str(tmp_path / 'loop')


def test_temporary_file_lives_beside_the_real_target(run_module, tmp_path, monkeypatch):
    real_dir = tmp_path / 'real'
    real_dir.mkdir()
    target = write(real_dir / 'settings.json', SETTINGS)
    os.symlink(str(target), str(tmp_path / 'settings.json'))
    seen = []
    original_mkstemp = tempfile.mkstemp

    def spy(*args, **kwargs):
        seen.append(kwargs.get('dir'))
        return original_mkstemp(*args, **kwargs)

    monkeypatch.setattr(atomic_file.tempfile, 'mkstemp', spy)
    run_module({'path': str(tmp_path / 'settings.json'), 'model': NEW})
    assert seen == [str(real_dir)]
