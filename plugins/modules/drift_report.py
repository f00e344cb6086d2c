# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: drift_report
short_description: Write, show and judge the drift report of a play, on the controller
version_added: 0.1.0
description:
  - Builds the drift report of the hosts of the play from what the play left on each of them
    (C(__jada_agent_state), the answer of M(jada.agent.agent_host_info); C(__jada_agent_drift), what drifted before a
    fix; C(__jada_agent_failure), a deferred failure), writes it as JSON to C(drift-<UTC time>.json) and
    C(latest.json) in O(directory), shows its summary lines, and fails when drift remains or a host failed.
  - A host with neither a read nor a failure (unreachable, or stopped by its preflight) is reported as failed,
    C(not checked (unreachable; see the output above)). A host read and then lost before the read after its fix
    (it left the play, unreachable or failed, with no deferred failure) is reported as failed too, C(lost after its
    read), with what its read found as what may remain.
  - Runs entirely in the controller process (an action plugin with no module). Use it with C(run_once) in the play
    of the checked hosts, not in a later play on C(localhost), which C(--limit) would skip.
  - The report holds what drifted (check, expected and actual value) and the effective model with its setting and
    source; never a file's content or an environment value.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.conn
  - action_common_attributes.flow
  - jada.agent.controller_report
attributes:
  check_mode:
    support: full
    details: Writes the report in check mode as well; the report records C(check_mode=true).
options:
  directory:
    description: Directory on the controller for the report files; created with mode 0750 when missing.
    type: path
    required: true
  mode:
    description: The drift mode of the run, recorded in the report.
    type: str
    choices: [report, remediate]
    default: report
  fail_on_drift:
    description: Fail when drift remains or a host failed. With V(false) the report is only written and shown.
    type: bool
    default: true
  hosts:
    description: The hosts to report on, in order.
    type: list
    elements: str
    default: the play's C(ansible_play_hosts_all)
"""

EXAMPLES = r"""
- name: Write the drift report, show its summary, and fail when drift remains or a host failed
  jada.agent.drift_report:
    directory: /var/lib/jada-agent-drift
    mode: report
  run_once: true
"""

RETURN = r"""
msg:
  description: The summary, one line per host and per drifted check; when the task fails, a last line with the counts.
  returned: always
  type: list
  elements: str
  sample: ["DRIFT   orchestrator-1: 1 drifted, 0 fixed",
           "          model in /srv/jada/.claude/settings.json: claude-haiku-4-5 (expected claude-sonnet-4-6)"]
paths:
  description: The files written, the timestamped report first.
  returned: success
  type: list
  elements: str
  sample: [/var/lib/jada-agent-drift/drift-2026-11-30T080000Z.json, /var/lib/jada-agent-drift/latest.json]
hosts_with_drift:
  description: Hosts on which drift remains.
  returned: success
  type: list
  elements: str
hosts_failed:
  description: Hosts that failed or could not be checked.
  returned: success
  type: list
  elements: str
"""
