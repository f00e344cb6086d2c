# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""agent_host_info with its two refusals around it, in one task.

With O(refuse), bad input (O(input_problems)) fails the task on the controller before the module runs on the host,
and a plan that refuses the change fails it after the read. They used to be two assert tasks beside the read; every
task costs the controller a worker per host, and a converged host should cost little more than the read itself.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.jada.agent.plugins.module_utils.orchestrator_plan import refusal


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        refuse = boolean(args.pop('refuse', False), strict=False)
        input_problems = args.pop('input_problems', None) or []
        host = (task_vars or {}).get('inventory_hostname', 'this host')
        if refuse:
            kind, message = refusal(host, input_problems, None)
            if kind:
                result.update(failed=True, msg=message, refused=kind)
                return result
        result.update(self._execute_module(module_name='jada.agent.agent_host_info', module_args=args,
                                           task_vars=task_vars))
        if refuse:
            kind, message = refusal(host, [], result)
            if kind:
                result.update(failed=True, msg=message, refused=kind)
        return result
