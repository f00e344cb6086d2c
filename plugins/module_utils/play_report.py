# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every report of a play (drift_report, usage_report) starts from, on the controller.

Such a report runs once, from the play of the hosts it reports on, and reads each host's registered answer.

Public API::

    play_report_inputs(args, task_vars)   # (directory, [(host, its hostvars)], finished) of a report task
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

__all__ = ['play_report_inputs']


def play_report_inputs(args, task_vars):
    """(directory, hosts, finished) of a report task's ``args`` and ``task_vars``.

    ``directory`` is the ``directory`` argument with ``~`` expanded, '' when none was given; ``hosts`` is
    [(name, hostvars of name or {})] for the ``hosts`` argument, else every host of the play (those that failed or
    could not be reached included: a report names them), in play order; ``finished`` is the UTC time, to the second.
    """
    task_vars = task_vars or {}
    directory = os.path.expanduser(str(args.get('directory') or ''))
    names = args.get('hosts')
    if names is None:
        names = task_vars.get('ansible_play_hosts_all') or []
    hostvars = task_vars.get('hostvars') or {}
    hosts = [(name, hostvars[name] if name in hostvars else {}) for name in names]
    return directory, hosts, datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
