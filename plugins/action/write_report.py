# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Write a JSON report on the controller from inside the controller process.

A scheduled drift check runs every hour: writing its report through copy/file modules would cost a module
execution per file. This action runs no module at all.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.jada.agent.plugins.module_utils.atomic_file import write_json_files


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('content', 'directory', 'names', 'mode'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        directory = os.path.expanduser(str(args.get('directory') or ''))
        names = args.get('names') or []
        if not directory or not names or not isinstance(names, list):
            raise AnsibleActionFail('write_report needs a directory and a non-empty list of file names')
        if 'content' not in args:
            raise AnsibleActionFail('write_report needs content, the data of the report')
        mode = int(str(args.get('mode', '0640')), 8)
        try:
            paths = write_json_files(directory, names, args['content'], mode)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('cannot write the report to %s: %s' % (directory, exc))
        # A report records a run; writing it is no change to any managed host.
        result.update(changed=False, paths=paths)
        return result
