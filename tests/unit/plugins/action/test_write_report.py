# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the write_report action plugin, run as the controller runs it (in a fresh Python), against real files."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.jada.agent.tests.unit.plugins.action import controller_harness


REPORT = {'finished': '2026-11-22T08:00:00Z', 'rows': [{'agent': 'validator', 'model': 'mod\u00e8le'}]}

# Records what a reader finds at the very moment before the switch.
WATCH_RENAME = """
import os
from ansible_collections.jada.agent.plugins.module_utils import atomic_file
rename = atomic_file.os.rename


def watching_rename(source, target):
    if target == WATCHED:
        with open(target) as handle:
            observed.append(handle.read())
    rename(source, target)


atomic_file.os.rename = watching_rename
"""


def run_action(watched='', **args):
    return controller_harness.run_action('write_report', args, prelude='WATCHED = %r\n' % watched + WATCH_RENAME)


@pytest.mark.parametrize('names, file_mode, expected_mode', [
    (['audit-20261122T080000Z.json', 'latest.json'], None, 0o640),
    (['latest.json'], '0600', 0o600),
    (['latest.json'], '0644', 0o644),
])
def test_writes_each_name_whole_with_its_mode(tmp_path, names, file_mode, expected_mode):
    directory = tmp_path / 'reports'
    args = dict(content=REPORT, directory=str(directory), names=names)
    if file_mode is not None:
        args['mode'] = file_mode
    result, dummy = run_action(**args)
    assert result['changed'] is False and result['paths'] == [str(directory / name) for name in names]
    assert sorted(os.listdir(str(directory))) == sorted(names)
    assert stat.S_IMODE(os.stat(str(directory)).st_mode) & 0o7 == 0
    for name in names:
        data = (directory / name).read_bytes()
        assert json.loads(data.decode('utf-8')) == REPORT and data.endswith(b'\n')
        assert 'mod\u00e8le'.encode('utf-8') in data
        assert stat.S_IMODE(os.stat(str(directory / name)).st_mode) == expected_mode


def test_replaces_an_older_report_without_a_moment_of_half_a_file(tmp_path):
    (tmp_path / 'latest.json').write_text('{"old": true}\n')
    result, seen = run_action(watched=str(tmp_path / 'latest.json'), content=REPORT, directory=str(tmp_path),
                              names=['latest.json'])
    assert result['paths'] == [str(tmp_path / 'latest.json')]
    assert seen == ['{"old": true}\n']
    assert json.loads((tmp_path / 'latest.json').read_text(encoding='utf-8')) == REPORT
    assert os.listdir(str(tmp_path)) == ['latest.json']


@pytest.mark.parametrize('args, fragment', [
    (dict(content=REPORT, names=['latest.json']), 'needs a directory'),
    (dict(content=REPORT, directory='/tmp', names=[]), 'non-empty list of file names'),
    (dict(directory='/tmp', names=['latest.json']), 'needs content'),
])
def test_bad_arguments_fail(args, fragment):
    result, dummy = run_action(**args)
    assert result['failed'] and fragment in result['msg']


def test_an_unwritable_directory_fails_naming_it(tmp_path):
    (tmp_path / 'file').write_text('not a directory')
    result, dummy = run_action(content=REPORT, directory=str(tmp_path / 'file' / 'reports'), names=['latest.json'])
    assert result['failed'] and 'cannot write the report to %s' % (tmp_path / 'file' / 'reports') in result['msg']
