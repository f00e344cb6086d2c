# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rollouts as transactions on a host: one snapshot directory per rollout under a root, each with its manifest and
a marker of the phase the rollout reached.

    <root>/<rollout id>/manifest.json   what config_snapshot kept (its copies beside it)
    <root>/<rollout id>/phase.json      {"phase": ..., "time": ..., "since": ...}

A rollout marks its snapshot ``started`` when it takes it, ``complete`` once verified and ``rolled-back`` when its
snapshot was put back; ``abandoned`` when a later run was told to finish it instead. A ``started`` snapshot that is
not the running rollout's is an unfinished rollout: a run killed, or a host lost, on the way.

The rollout history is a JSON-lines file beside the snapshots (default /var/lib/jada-agent/rollouts.jsonl): one line
per finished rollout, which outlives the snapshots that are pruned. The usage report reads it to find the last
rollout and compare the windows before and after it.
"""

from __future__ import annotations

import binascii
import json
import os
import re
import time

MANIFEST = 'manifest.json'
MARKER = 'phase.json'
STARTED = 'started'
PHASES = (STARTED, 'complete', 'rolled-back', 'abandoned')
# Snapshots of the single-snapshot layout (a manifest directly in the root) move here on the next rollout.
LEGACY_ID = 'before-rollout-ids'
LAST = 'last'
_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$')
HISTORY_KEYS = ('from_model', 'to_model', 'from_cli_version', 'to_cli_version')
# About 200 bytes a line: the file stays small however often the fleet is rolled out.
HISTORY_KEEP = 500


def id_problem(rollout_id):
    """Why ``rollout_id`` cannot name a snapshot directory, or None."""
    if not isinstance(rollout_id, str) or not _ID.match(rollout_id) or rollout_id == LAST:
        return ('rollout id %r: use 1 to 100 letters, digits, ".", "_", ":" or "-", starting with a letter or digit '
                '(and not "%s", which names the newest snapshot)' % (rollout_id, LAST))
    return None


def new_id(now, random_hex=None):
    """A rollout id that sorts by time: 20261130T084641Z-1f2e; the random part tells apart two in one second."""
    if random_hex is None:
        random_hex = binascii.hexlify(os.urandom(2)).decode()
    return '%s-%s' % (time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now)), random_hex)


def marker(phase, now, since=None):
    return {'phase': phase, 'time': now, 'since': since if since is not None else now}


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def list_snapshots(root):
    """The snapshots under root, oldest first: [{id, phase, since, time}]. A directory without a readable marker
    but with a manifest counts as ``started`` (a run killed while writing the marker)."""
    found = []
    try:
        names = sorted(os.listdir(root))
    except (IOError, OSError):
        return found
    for name in names:
        directory = os.path.join(root, name)
        if name.startswith('.') or not os.path.isdir(directory):
            continue
        state = read_json(os.path.join(directory, MARKER))
        if not isinstance(state, dict) or state.get('phase') not in PHASES:
            if not os.path.isfile(os.path.join(directory, MANIFEST)):
                continue
            since = os.stat(os.path.join(directory, MANIFEST)).st_mtime
            state = marker(STARTED, since)
        found.append({'id': name, 'phase': state['phase'], 'since': state.get('since'), 'time': state.get('time')})
    return sorted(found, key=lambda entry: (entry['since'] or 0, entry['id']))


def find(snapshots, rollout_id):
    """The snapshot ``rollout_id`` names (``last``: the newest), or None."""
    if rollout_id in (None, '', LAST):
        return snapshots[-1] if snapshots else None
    for entry in snapshots:
        if entry['id'] == rollout_id:
            return entry
    return None


def unfinished(snapshots, current=None):
    """The newest ``started`` snapshot that is not the running rollout's, or None."""
    for entry in reversed(snapshots):
        if entry['phase'] == STARTED and entry['id'] != current:
            return entry
    return None


def to_prune(snapshots, keep, protect=()):
    """Ids of the snapshots beyond the newest ``keep``; never an unfinished one nor one of ``protect``."""
    if keep is None or keep < 1:
        return []
    older = snapshots[:-keep] if len(snapshots) > keep else []
    return [entry['id'] for entry in older if entry['phase'] != STARTED and entry['id'] not in protect]


def summary(root):
    """What agent_host_info reports: the number of snapshots, the newest, and the unfinished rollout if any."""
    snapshots = list_snapshots(root)
    return {'path': root, 'count': len(snapshots), 'last': snapshots[-1] if snapshots else None,
            'unfinished': unfinished(snapshots)}


def history_line(rollout_id, result, now, change, started=None):
    """One line of the rollout history: when it finished, its id, how (``complete``, ``rolled-back``) and the change
    it made, from ``change`` (HISTORY_KEYS; anything else is left out, so no content of a file can slip in).
    ``started``, when given, is when its snapshot was taken (``started`` in the line): the usage report compares the
    agent's usage before that with its usage after ``time``, so that the rollout's own verification counts in
    neither window."""
    entry = {'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now)), 'rollout_id': rollout_id,
             'result': result}
    if started is not None:
        entry['started'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))
    for key in HISTORY_KEYS:
        value = (change or {}).get(key)
        entry[key] = None if value in (None, '') else str(value)
    return json.dumps(entry, sort_keys=True)


def with_history_line(existing, line, keep=HISTORY_KEEP):
    """The history file's new content (bytes): its complete lines, the newest ``keep`` - 1 of them, then ``line``.
    A torn last line (a write cut short elsewhere) is dropped rather than glued to the new one."""
    lines = existing.decode('utf-8', 'replace').split('\n')
    # The text after the last newline: empty, or a torn line.
    lines = [item for item in lines[:-1] if item.strip()]
    lines = lines[-(keep - 1):] if keep > 1 else []
    return ('\n'.join(lines + [line]) + '\n').encode('utf-8')
