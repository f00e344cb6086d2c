# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build, write and show the usage report of a play, in one controller task.

It runs once, from the play of the read hosts themselves (as drift_report), so that --limit still gets a report.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.jada.agent.plugins.module_utils.atomic_file import replace_file, write_json_files
from ansible_collections.jada.agent.plugins.module_utils.play_report import play_report_inputs
from ansible_collections.jada.agent.plugins.module_utils.usage_report import USAGE_FACT, html_report, usage_report


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    BYPASS_HOST_LOOP = False
    _VALID_ARGS = frozenset(('directory', 'hosts'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        directory, hosts, finished = play_report_inputs(self._task.args, task_vars)
        if not directory:
            raise AnsibleActionFail('usage_report needs a directory for the report')
        hosts = [(name, facts.get(USAGE_FACT)) for name, facts in hosts]
        report = usage_report(hosts, finished, self._task.check_mode)
        stamp = finished.replace(':', '')
        page = html_report(report).encode('utf-8')
        try:
            paths = write_json_files(directory, ['usage-%s.json' % stamp, 'latest.json'], report)
            for name in ('usage-%s.html' % stamp, 'latest.html'):
                path = os.path.join(directory, name)
                replace_file(path, page, prepare=lambda temporary: os.chmod(temporary, 0o640))
                paths.append(path)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('cannot write the usage report to %s: %s' % (directory, exc))
        lines = list(report['summary_lines'])
        failed = bool(report['hosts_not_read'])
        if failed:
            # A report that exits 0 says every host was read.
            lines.append('%d host(s) not read: %s; report: %s' % (
                len(report['hosts_not_read']), ', '.join(report['hosts_not_read']), paths[-1]))
        # Shown like a debug message at every verbosity; the whole report is in the files.
        result.update(changed=False, failed=failed, msg=lines, paths=paths, hosts_not_read=report['hosts_not_read'],
                      _ansible_verbose_always=True)
        return result
