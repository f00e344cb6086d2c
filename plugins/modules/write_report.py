# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: write_report
short_description: Write a JSON report on the controller
version_added: 0.1.0
description:
  - Writes O(content) as indented JSON to each of O(names) in O(directory) on the Ansible controller,
    atomically, creating the directory when needed.
  - Runs entirely in the controller process (an action plugin with no module), so a frequent job such as the
    scheduled drift check pays no module execution for its report.
  - Reports are records of a run, not changes to a host, so the task reports C(changed=false). It writes in check
    mode too, since a check-mode drift run exists to produce its report.
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
    details: Writes the report in check mode as well.
options:
  content:
    description: The report, any data that serialises to JSON.
    type: raw
    required: true
  directory:
    description: Directory on the controller; created with mode 0750 when missing.
    type: path
    required: true
  names:
    description: File names to write the same report to, for example a timestamped one and C(latest.json).
    type: list
    elements: str
    required: true
  mode:
    description: Mode of the report files.
    type: str
    default: "0640"
"""

EXAMPLES = r"""
- name: Write the drift report
  jada.agent.write_report:
    content: "{{ drift_report }}"
    directory: /var/lib/jada-agent-drift
    names:
      - drift-20261122T080000Z.json
      - latest.json
  delegate_to: localhost
"""

RETURN = r"""
paths:
  description: The files written.
  returned: success
  type: list
  elements: str
  sample: [/var/lib/jada-agent-drift/latest.json]
"""
