# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The drift report of a run: per host what was checked, what drifted, what was fixed, what failed.

Decided here once, from what the play left on each host (the read's answer, the drift kept before a fix, a deferred
failure), so that the report, its summary and the run's verdict cannot disagree.

Public API::

    host_entry(name, state, kept_drift, failure, lost)  # (entry, outcome, summary lines) of one host
    drift_report(hosts, mode, finished, check_mode)     # the whole report
    NOT_READ                                            # a host with no read answer and no failure
"""

from __future__ import annotations

__all__ = ['CHECKED', 'NOT_READ', 'drift_report', 'host_entry']

CHECKED = ['model in each settings file', 'model overrides', 'unit', 'environment file', 'LimitNOFILE drop-in',
           'fs.nr_open', 'effective LimitNOFILE', 'service active and enabled']
# What a reader of the report can say about the model; the rest of the read (paths, settings) stays on the host.
EFFECTIVE_MODEL_KEYS = ('model', 'setting', 'source')
NOT_READ = object()


def _checks(items):
    return set(item.get('check') for item in items or [])


def host_entry(name, state, kept_drift=NOT_READ, failure=None, lost=False):
    """(entry, outcome, lines) for host ``name``.

    ``state`` is agent_host_info's registered answer (None when the host never got that far, or an unreachable
    result); ``kept_drift`` what drifted before a fix (NOT_READ when no fix ran); ``failure`` a deferred failure's
    message; ``lost`` whether the host left the play (unreachable, or a task failed that nothing deferred) by the time
    of the report. ``outcome`` is 'failed', 'drift' (drift remains), or 'ok' (none found, or all of it fixed).
    """
    state = state or {}
    plan = state.get('plan') or {}
    found = plan.get('drift') if 'drift' in plan else None
    drift = found if kept_drift is NOT_READ else kept_drift
    remaining = found if 'drift' in plan else drift
    if drift is None and failure is None:
        failure = '%s: not checked (%s; see the output above)' % (
            name, 'unreachable' if state.get('unreachable') else 'its read or preflight failed')
    elif failure is None and lost:
        # Read, then lost before the read after the fix: what that first read found is all the report knows.
        failure = '%s: lost after its read (unreachable, or a task failed; see the output above); what drifted may ' \
                  'remain' % name
    drift, remaining = drift or [], remaining or []
    left = _checks(remaining)
    fixed = [item for item in drift if item.get('check') not in left] if failure is None else []
    entry = {
        'checked': list(CHECKED), 'drift': drift, 'fixed': fixed, 'remaining': remaining, 'failed': failure,
        'effective_model': dict((key, value) for key, value in (state.get('effective_model') or {}).items()
                                if key in EFFECTIVE_MODEL_KEYS),
    }
    if failure:
        return entry, 'failed', ['FAILED  ' + failure]
    if not drift:
        return entry, 'ok', ['ok      %s: no drift' % name]
    lines = ['%s%s: %d drifted, %d fixed' % ('DRIFT   ' if remaining else 'FIXED   ', name, len(drift), len(fixed))]
    lines.extend('          %s: %s (expected %s)' % (item.get('check'), item.get('actual'), item.get('expected'))
                 for item in drift)
    return entry, 'drift' if remaining else 'ok', lines


def drift_report(hosts, mode, finished, check_mode):
    """The report of a run over ``hosts``, a list of (name, state, kept_drift, failure, lost) in play order."""
    entries, with_drift, failed, lines = {}, [], [], []
    for name, state, kept_drift, failure, lost in hosts:
        entry, outcome, host_lines = host_entry(name, state, kept_drift, failure, lost)
        entries[name] = entry
        lines.extend(host_lines)
        if outcome == 'failed':
            failed.append(name)
        elif outcome == 'drift':
            with_drift.append(name)
    return {'mode': mode, 'finished': finished, 'check_mode': bool(check_mode), 'hosts': entries,
            'hosts_with_drift': with_drift, 'hosts_failed': failed, 'summary_lines': lines}
