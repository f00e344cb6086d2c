# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.jada.agent.plugins.module_utils import snapshots


def entry(name, phase, since):
    return {'id': name, 'phase': phase, 'since': since, 'time': since}


SNAPSHOTS = [entry('a', 'complete', 1), entry('b', 'started', 2), entry('c', 'rolled-back', 3), entry('d', 'complete', 4)]


@pytest.mark.parametrize('rollout_id, fine', [
    ('20261130T084641Z-1f2e', True), ('release-42', True), ('a', True), ('v1.2:canary', True),
    ('', False), ('last', False), ('../etc', False), ('a/b', False), ('.hidden', False), ('-x', False),
    ('x' * 101, False), (None, False), (5, False), ('with space', False),
])
def test_id_problem(rollout_id, fine):
    assert (snapshots.id_problem(rollout_id) is None) is fine


def test_new_id_sorts_by_time():
    assert snapshots.new_id(1796028401.5, 'beef') == '20261130T084641Z-beef'


@pytest.mark.parametrize('rollout_id, found', [
    (None, 'd'), ('', 'd'), ('last', 'd'), ('b', 'b'), ('a', 'a'), ('zzz', None),
])
def test_find(rollout_id, found):
    result = snapshots.find(SNAPSHOTS, rollout_id)
    assert (result['id'] if result else None) == found


def test_find_in_nothing():
    assert snapshots.find([], 'last') is None


@pytest.mark.parametrize('found, current, unfinished', [
    (SNAPSHOTS, None, 'b'),
    (SNAPSHOTS, 'b', None),
    (SNAPSHOTS + [entry('e', 'started', 5)], 'e', 'b'),
    (SNAPSHOTS + [entry('e', 'started', 5)], None, 'e'),
    ([entry('a', 'complete', 1)], None, None),
    ([], None, None),
])
def test_unfinished(found, current, unfinished):
    result = snapshots.unfinished(found, current)
    assert (result['id'] if result else None) == unfinished


@pytest.mark.parametrize('keep, protect, pruned', [
    (5, (), []), (4, (), []), (3, (), ['a']), (2, (), ['a']), (1, (), ['a', 'c']), (1, ('c',), ['a']),
    (0, (), []), (None, (), []),
])
def test_to_prune_never_an_unfinished_one(keep, protect, pruned):
    assert snapshots.to_prune(SNAPSHOTS, keep, protect) == pruned


def test_list_snapshots_reads_markers_oldest_first(tmp_path):
    for name, phase, since in (('r2', 'complete', 20), ('r1', 'rolled-back', 10)):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'phase.json').write_text(json.dumps(snapshots.marker(phase, since + 1, since)))
    # Killed while the marker was being written: a manifest without a marker is an unfinished rollout.
    (tmp_path / 'r3').mkdir()
    (tmp_path / 'r3' / 'manifest.json').write_text('{}')
    # Neither a snapshot nor a marker: ignored, as are files and hidden directories.
    (tmp_path / 'empty').mkdir()
    (tmp_path / '.tmp').mkdir()
    (tmp_path / 'manifest.json').write_text('{}')

    found = snapshots.list_snapshots(str(tmp_path))

    expected = [('r1', 'rolled-back'), ('r2', 'complete'), ('r3', 'started')]
    assert [(item['id'], item['phase']) for item in found] == expected
    assert found[0]['since'] == 10 and found[0]['time'] == 11
    summary = snapshots.summary(str(tmp_path))
    assert (summary['count'], summary['last']['id'], summary['unfinished']['id']) == (3, 'r3', 'r3')


def test_list_snapshots_of_a_missing_root(tmp_path):
    assert snapshots.list_snapshots(str(tmp_path / 'missing')) == []
    assert snapshots.summary(str(tmp_path / 'missing')) == {'path': str(tmp_path / 'missing'), 'count': 0,
                                                            'last': None, 'unfinished': None}


@pytest.mark.parametrize('existing, keep, kept', [
    (b'', 3, []),
    (b'{"n": 1}\n{"n": 2}\n', 3, ['{"n": 1}', '{"n": 2}']),
    # Only the newest keep - 1 stay beside the new line.
    (b'{"n": 1}\n{"n": 2}\n{"n": 3}\n', 3, ['{"n": 2}', '{"n": 3}']),
    # A torn last line is dropped, blank lines too.
    (b'{"n": 1}\n\n{"n": 2', 3, ['{"n": 1}']),
    (b'{"n": 1}\n', 1, []),
])
def test_with_history_line(existing, keep, kept):
    content = snapshots.with_history_line(existing, '{"new": true}', keep)

    assert content.endswith(b'\n')
    assert content.decode().splitlines() == kept + ['{"new": true}']


def test_history_line_records_only_the_change():
    change = {'from_model': 'claude-haiku-4-5', 'to_model': 'claude-sonnet-4-6', 'from_cli_version': '',
              'to_cli_version': 2.1, 'env': {'ANTHROPIC_API_KEY': 'sk-secret'}}
    line = json.loads(snapshots.history_line('r1', 'complete', 0, change))

    assert line == {'time': '1970-01-01T00:00:00Z', 'rollout_id': 'r1', 'result': 'complete',
                    'from_model': 'claude-haiku-4-5', 'to_model': 'claude-sonnet-4-6', 'from_cli_version': None,
                    'to_cli_version': '2.1'}
    # A complete rollout also says when it began.
    assert json.loads(snapshots.history_line('r1', 'complete', 90, change, 30))['started'] == '1970-01-01T00:00:30Z'
