# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: usage_report
short_description: Write and show the usage report of a play, before and after the last rollout, on the controller
version_added: 0.1.0
description:
  - Builds the usage report of the hosts of the play from the answer of M(jada.agent.agent_usage_info) with
    C(compare=true) that each of them registered as C(__jada_agent_usage), writes it as JSON to
    C(usage-<UTC time>.json) and C(latest.json), and as one HTML page to C(usage-<UTC time>.html) and C(latest.html),
    in O(directory), and shows its summary lines.
  - Per host and for the fleet, the usage per model, and per model the windows before and after the last completed
    rollout with the change in percent (C(null) when the figure was 0 or unknown before), and the same over all
    models (C(all models)).
  - Some changes are not shown (C(null)), and the report's C(change_withheld) says why. Counts (C(requests),
    C(tasks)) compare only over windows of the same length. C(cost_per_day) compares only once both windows cover
    at least a day; minutes after a rollout, a burst of answers would read as a cost per day many times the real
    one. Tokens per task, latency and the error rate are per call or per task and compare at once.
  - The fleet is the sum of the hosts read; each host is compared around its own last rollout, and a host without a
    rollout takes no part in the fleet's comparison. Counts, costs and costs per day are summed, tokens per task and
    the error rate computed again from the sums. Percentiles cannot be summed, so the fleet shows the worst host's
    (C(worst_host_p50_ms), C(worst_host_p95_ms)).
  - The HTML page has the tables and inline SVG bar charts (cost per day, and p50 and p95 latency, per model, before
    and after), inline CSS, no script and no external resource; every text in it is escaped.
  - Fails, after writing the report, when a host could not be read (unreachable, or its read failed), naming it.
  - Runs entirely in the controller process (an action plugin with no module). Use it with C(run_once) in the play
    of the read hosts, not in a later play on C(localhost), which C(--limit) would skip.
  - The report holds figures, model IDs, times and the rollout history lines; never a prompt or an answer.
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
    details: Writes the report in check mode as well (only on the controller); the report records C(check_mode=true).
options:
  directory:
    description: Directory on the controller for the report files; created with mode 0750 when missing.
    type: path
    required: true
  hosts:
    description: The hosts to report on, in order.
    type: list
    elements: str
    default: the play's C(ansible_play_hosts_all)
seealso:
  - module: jada.agent.agent_usage_info
"""

EXAMPLES = r"""
- name: Read each host's usage around its last rollout
  jada.agent.agent_usage_info:
    compare: true
  register: __jada_agent_usage

- name: Write the usage report and show its summary
  jada.agent.usage_report:
    directory: /var/lib/jada-agent-usage
  run_once: true
"""

RETURN = r"""
msg:
  description: The summary, one line for the fleet and one per host; when the task fails, a last line naming the hosts
    not read.
  returned: always
  type: list
  elements: str
  sample: ["fleet   1 host(s) compared around their last rollout: cost per day 1.20 USD -> 1.50 USD (+25.0%), error
           rate 0.01 -> 0",
           "ok      orchestrator-1: rollout 20261128T085500Z-1a2b3c at 2026-11-28T09:00:00Z (claude-haiku-4-5 ->
           claude-sonnet-4-6): cost per day 1.20 USD -> 1.50 USD (+25.0%), error rate 0.01 -> 0"]
paths:
  description: The files written, the timestamped JSON report first, then latest.json, the timestamped page and
    latest.html.
  returned: success
  type: list
  elements: str
  sample: [/var/lib/jada-agent-usage/usage-2026-12-01T080000Z.json, /var/lib/jada-agent-usage/latest.json,
           /var/lib/jada-agent-usage/usage-2026-12-01T080000Z.html, /var/lib/jada-agent-usage/latest.html]
hosts_not_read:
  description: Hosts whose usage could not be read.
  returned: success
  type: list
  elements: str
"""
