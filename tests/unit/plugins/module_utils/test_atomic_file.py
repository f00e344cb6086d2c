# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the one atomic file writer, against real files."""

from __future__ import annotations

import errno
import os
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.jada.agent.plugins.module_utils import atomic_file
from ansible_collections.jada.agent.plugins.module_utils.atomic_file import TemporaryFileError, replace_file


OLD = b'{"model": "claude-sonnet-4-6"}\n'
NEW = '{"model": "claude-haiku-4-5", "greeting": "gr\u00fc\u00df"}\n'.encode('utf-8')


class Refused(Exception):
    pass


@pytest.fixture
def module():
    with patch_module_args({}):
        return basic.AnsibleModule(argument_spec={})


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def write(path, data, file_mode):
    path.write_bytes(data)
    path.chmod(file_mode)
    return path


@pytest.mark.parametrize('existing, prepare, expected_mode', [
    # mkstemp's 0600 survives a plain rename: nothing is readable by others by accident.
    (None, None, 0o600),
    (0o644, None, 0o600),
    (None, lambda temporary: os.chmod(temporary, 0o640), 0o640),
    (0o600, lambda temporary: os.chmod(temporary, 0o644), 0o644),
])
def test_replace_with_a_plain_rename(tmp_path, existing, prepare, expected_mode):
    target = tmp_path / 'report.json'
    if existing is not None:
        write(target, OLD, existing)
    replace_file(str(target), NEW, prepare=prepare)
    assert target.read_bytes() == NEW
    assert mode(target) == expected_mode
    assert os.listdir(str(tmp_path)) == ['report.json']


@pytest.mark.parametrize('existing_mode', [0o600, 0o640, 0o644])
def test_replace_with_atomic_move_keeps_the_targets_mode(tmp_path, module, existing_mode):
    target = write(tmp_path / 'settings.json', OLD, existing_mode)
    inode = os.stat(str(target)).st_ino
    replace_file(str(target), NEW, move=module.atomic_move)
    assert target.read_bytes() == NEW and mode(target) == existing_mode
    # A new file took its place; readers holding the old one keep reading whole old bytes.
    assert os.stat(str(target)).st_ino != inode
    assert os.listdir(str(tmp_path)) == ['settings.json']


@pytest.mark.parametrize('prefix, suffix, starts, ends', [
    (None, '', '.settings.json.', ''),
    (None, '.claude_settings.tmp', '.settings.json.', '.claude_settings.tmp'),
    ('.jada-restore.', '', '.jada-restore.', ''),
])
def test_the_temporary_file_is_complete_and_beside_the_target(tmp_path, prefix, suffix, starts, ends):
    target = write(tmp_path / 'settings.json', OLD, 0o600)
    seen = []

    def look(temporary):
        with open(temporary, 'rb') as handle:
            seen.append((os.path.dirname(temporary), os.path.basename(temporary), handle.read()))

    replace_file(str(target), NEW, prepare=look, prefix=prefix, suffix=suffix)
    directory, name, content = seen[0]
    assert directory == str(tmp_path) and content == NEW
    assert name.startswith(starts) and name.endswith(ends) and name != starts + ends


def refuse(temporary):
    raise Refused('the target changed since it was read')


def broken_move(temporary, target):
    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))


def interrupted(temporary):
    raise KeyboardInterrupt()


@pytest.mark.parametrize('prepare, move, raised', [
    (refuse, None, Refused),
    (None, broken_move, OSError),
    (interrupted, None, KeyboardInterrupt),
])
def test_a_failure_before_the_rename_leaves_the_target_and_no_temporary_file(tmp_path, prepare, move, raised):
    target = write(tmp_path / 'settings.json', OLD, 0o640)
    with pytest.raises(raised):
        replace_file(str(target), NEW, prepare=prepare, move=move)
    assert target.read_bytes() == OLD and mode(target) == 0o640
    assert os.listdir(str(tmp_path)) == ['settings.json']


@pytest.mark.parametrize('broken', ['mkstemp', 'fsync'])
def test_a_temporary_file_that_cannot_be_written_is_a_temporary_file_error(tmp_path, monkeypatch, broken):
    target = write(tmp_path / 'settings.json', OLD, 0o640)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if broken == 'mkstemp':
        monkeypatch.setattr(atomic_file.tempfile, 'mkstemp', no_space)
    else:
        monkeypatch.setattr(atomic_file.os, 'fsync', no_space)
    with pytest.raises(TemporaryFileError) as caught:
        replace_file(str(target), NEW)
    assert isinstance(caught.value, OSError)
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path))
    assert target.read_bytes() == OLD
    assert os.listdir(str(tmp_path)) == ['settings.json']


def test_a_missing_directory_is_a_temporary_file_error(tmp_path):
    with pytest.raises(TemporaryFileError) as caught:
        replace_file(str(tmp_path / 'missing' / 'report.json'), NEW)
    assert caught.value.errno == errno.ENOENT
