# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Write a JSON report on the controller from inside the controller process.

A scheduled drift check runs every hour: writing its report through copy/file modules would cost a module
execution per file. This action runs no module at all.
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def write_atomically(path, text, mode):
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(handle, 'w') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.rename(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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
        text = json.dumps(args['content'], indent=2, sort_keys=True, ensure_ascii=False) + '\n'
        paths = [os.path.join(directory, os.path.basename(str(name))) for name in names]
        try:
            os.makedirs(directory, 0o750, exist_ok=True)
            for path in paths:
                write_atomically(path, text, mode)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('cannot write the report to %s: %s' % (directory, exc))
        # A report records a run; writing it is no change to any managed host.
        result.update(changed=False, paths=paths)
        return result
