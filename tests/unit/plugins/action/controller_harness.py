# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run one of the collection's action plugins as the controller runs it, in a fresh Python.

Importing controller code would switch ansible-core's module_utils into controller mode for the rest of the test
process, which the other tests run as a target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.jada.agent.tests.unit.plugins.modules.model_files_fixtures import COLLECTIONS_ROOT

# ``observed`` is whatever the prelude records, for example what a reader saw during a write.
CONTROLLER = """
import importlib, json, sys
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

plugin, args, task_vars, check_mode, prelude = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), \\
    sys.argv[4] == 'check', sys.argv[5]
observed = []
exec(prelude)
ActionModule = importlib.import_module('ansible_collections.jada.agent.plugins.action.' + plugin).ActionModule
task = Task()
task.args = args
task.check_mode = check_mode
loader = DataLoader()
context = PlayContext()
action = ActionModule(task=task, connection=connection_loader.get('local', context, None), play_context=context,
                      loader=loader, templar=Templar(loader=loader), shared_loader_obj=None)
try:
    result = action.run(task_vars=task_vars)
except AnsibleActionFail as exc:
    result = dict(failed=True, msg=str(exc))
print(json.dumps(dict(result=result, observed=observed)))
"""


def run_action(plugin, args, task_vars=None, check_mode=False, prelude=''):
    """(result, observed) of the action plugin ``plugin`` run with ``args`` and ``task_vars``."""
    done = subprocess.run([sys.executable, '-c', CONTROLLER, plugin, json.dumps(args), json.dumps(task_vars or {}),
                           'check' if check_mode else 'run', prelude],
                          env=dict(os.environ, PYTHONPATH=COLLECTIONS_ROOT), capture_output=True, text=True,
                          timeout=60, check=True)
    answer = json.loads(done.stdout)
    return answer['result'], answer['observed']
