# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build, write and show the drift report of a play, and fail the run when drift remains, in one controller task.

It runs once, from the play of the checked hosts themselves: a later play on localhost would be skipped by
--limit, and a scheduled check limited to part of the fleet would then pass without a report.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.jada.agent.plugins.module_utils.atomic_file import write_json_files
from ansible_collections.jada.agent.plugins.module_utils.drift_report import NOT_READ, drift_report
from ansible_collections.jada.agent.plugins.module_utils.play_report import play_report_inputs


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    BYPASS_HOST_LOOP = False
    _VALID_ARGS = frozenset(('directory', 'mode', 'fail_on_drift', 'hosts'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        directory, hosts, finished = play_report_inputs(args, task_vars)
        if not directory:
            raise AnsibleActionFail('drift_report needs a directory for the report')
        try:
            fail_on_drift = boolean(args.get('fail_on_drift', True), strict=True)
        except TypeError as exc:
            raise AnsibleActionFail('drift_report: fail_on_drift must be a boolean: %s' % exc)
        mode = str(args.get('mode') or 'report')
        if mode not in ('report', 'remediate'):
            # drift_remediation.yml passes jada_agent_drift_mode here unchecked: the name users set is the one to see.
            raise AnsibleActionFail('drift_report: mode (jada_agent_drift_mode of drift_remediation.yml) is %s; use '
                                    'report (change nothing) or remediate (fix drift)' % mode)
        # A host of the play that is no longer in it was lost on the way (the read, ignoring unreachable, keeps it).
        task_vars = task_vars or {}
        lost = set(task_vars.get('ansible_play_hosts_all') or []) - set(task_vars.get('ansible_play_hosts') or [])
        hosts = [(name, facts.get('__jada_agent_state'), facts.get('__jada_agent_drift', NOT_READ),
                  facts.get('__jada_agent_failure'), name in lost) for name, facts in hosts]
        report = drift_report(hosts, mode, finished, self._task.check_mode)
        try:
            paths = write_json_files(directory, ['drift-%s.json' % finished.replace(':', ''), 'latest.json'], report)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('cannot write the drift report to %s: %s' % (directory, exc))
        lines = list(report['summary_lines'])
        failed = bool(fail_on_drift and (report['hosts_with_drift'] or report['hosts_failed']))
        if failed:
            lines.append('%d host(s) with drift remaining, %d failed; report: %s' % (
                len(report['hosts_with_drift']), len(report['hosts_failed']), paths[-1]))
        # Shown like a debug message at every verbosity; the whole report is in the files.
        result.update(changed=False, failed=failed, msg=lines, paths=paths, hosts_with_drift=report['hosts_with_drift'],
                      hosts_failed=report['hosts_failed'], _ansible_verbose_always=True)
        return result
