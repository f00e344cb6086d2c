#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
---
module: agent_model_files
short_description: Read the Claude models set in agents' JSON config files, and correct those the policy forbids
version_added: 0.2.0
description:
  - Finds the model setting of each agent in JSON files on the host (O(json_files)) and returns one raw row per file
    in RV(rows) (agent, file, model). M(jada.agent.agent_model_audit) takes these rows on the controller through its
    C(include_rows) option, rates them against the policy, estimates their cost and reports them with SSM and Lambda.
  - Files that cannot be read or are not strict JSON are listed in RV(errors) with their path, line and column (never
    their content), for the C(include_errors) option of M(jada.agent.agent_model_audit); the other files are still
    read.
  - Without O(fix) it only reads, and the policy options are not used.
  - With O(fix=true) it corrects the files whose model violates the policy (O(policy), O(default_model),
    O(model_match)) by writing the policy model verbatim. To know which, it asks the collection's policy code for the
    verdict on each file; the verdict is returned in the row (RV(rows[].policy_model), RV(rows[].policy_rule),
    RV(rows[].compliant)) and M(jada.agent.agent_model_audit) reports it as it is instead of judging the file again.
    Give both modules the same policy.
  - Needs neither boto3 nor AWS credentials.
author:
  - jada.agent maintainers (@jada)
options:
  json_files:
    description:
      - JSON files on the host that hold an agent's model, one entry per set of files.
      - Each file matched is one row. A file that cannot be read or is not strict JSON is listed in RV(errors) and the
        other files are still read.
      - A file matched by several entries with the same O(json_files[].query) gives one row.
    type: list
    elements: dict
    required: true
    suboptions:
      glob:
        description:
          - Shell-style pattern of the files, for example C(/opt/jada/lambda/*/config.json). C(**) matches any number
            of directories, for example C(/opt/jada/agents/**/settings.json). C(~) and environment variables expand.
          - As in the shell, C(*) and C(**) do not match names starting with a dot; spell such a directory out, for
            example C(/opt/jada/agents/*/.claude/settings.json).
          - A pattern that matches nothing adds no row.
        type: path
        required: true
      query:
        description:
          - JMESPath expression locating the model in the file, for example V(model), V(agent.model) or
            V(env.ANTHROPIC_MODEL).
          - A plain dotted field path is evaluated without the C(jmespath) library; any other expression needs it on
            the host.
          - A result of V(null) is reported as no model set. Any other non-string result is an error of that file.
          - O(fix=true) can only correct files whose query is a plain dotted field path.
        type: str
        default: model
      agent_name:
        description:
          - How to name the agent of a file.
          - V(parent) uses the name of the directory holding the file, skipping hidden directories, so both
            C(/opt/jada/lambda/validator/config.json) and C(/opt/jada/agents/validator/.claude/settings.json) belong to
            C(validator).
          - V(stem) uses the file name without its extension.
          - C(query:<JMESPath>) reads the name from the file, for example V(query:agent.name).
        type: str
        default: parent
      source_name:
        description:
          - A label copied into the rows of these files as C(source_name).
        type: str
  fix:
    description:
      - Correct the files whose model violates the policy by writing the policy model verbatim.
      - Files are replaced atomically, keeping their mode and owner, and only when nobody changed them since they were
        read. When the query is the top-level V(model), only the bytes of that value change (the key is added when
        missing). An existing nested key also has only its value's bytes changed. A missing nested key is added by
        re-serialising the file with its detected indentation; then whitespace, escapes and number spellings elsewhere
        may change, key order is kept.
      - A file that cannot be corrected is listed in RV(errors) with the reason, and its row is not RV(rows[].fixed).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - jada.agent.model_policy
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be corrected (RV(rows[].fixed), RV(changed)) and changes no file.
  diff_mode:
    support: full
    details:
      - One entry per corrected file with the agent, the file and the model before and after; never file content.
  platform:
    platforms: posix
seealso:
  - module: jada.agent.agent_model_audit
requirements:
  - jmespath, on the host, only for O(json_files[].query) or C(query:) agent names that are not plain dotted field paths
notes:
  - The compliant flag of a row describes the value found; RV(rows[].fixed) says whether it was corrected (or, in check
    mode, would be).
"""

EXAMPLES = r"""
- name: Read the models of the agents' config files on this host
  jada.agent.agent_model_files:
    json_files:
      - glob: /opt/jada/lambda/*/config.json
        query: agent.model
        source_name: lambda-configs
      - glob: /opt/jada/agents/**/settings.json
  register: agent_files

- name: Correct the files that violate the hybrid policy (the controller reports them with the same policy)
  jada.agent.agent_model_files:
    json_files:
      - glob: /opt/jada/agents/*/.claude/settings.json
    policy:
      - agent: orchestrator
        model: claude-sonnet-4-6
    default_model: claude-haiku-4-5
    fix: true
  register: agent_files

- name: Rate the hosts' files on the controller
  jada.agent.agent_model_audit:
    include_rows: "{{ agent_files.rows }}"
    include_errors: "{{ agent_files.errors }}"
    policy:
      - agent: orchestrator
        model: claude-sonnet-4-6
    default_model: claude-haiku-4-5
    default_token_volume: {input: 10, output: 2}
  delegate_to: localhost
"""

RETURN = r"""
rows:
  description:
    - One entry per file read, sorted by agent and file, for the C(include_rows) option of
      M(jada.agent.agent_model_audit).
  returned: always
  type: list
  elements: dict
  contains:
    agent:
      description: The agent the file belongs to (see O(json_files[].agent_name)).
      returned: always
      type: str
      sample: validator
    source_type:
      description: V(json_file), what M(jada.agent.agent_model_audit) calls a row of this module.
      returned: always
      type: str
      sample: json_file
    source:
      description: The file's path, as the glob matched it.
      returned: always
      type: str
      sample: /opt/jada/lambda/validator/config.json
    source_name:
      description: The O(json_files[].source_name) label, or V(null).
      returned: always
      type: str
      sample: lambda-configs
    model:
      description: The model the file held when it was read, or V(null) when it sets none.
      returned: always
      type: str
      sample: claude-sonnet-4-6
    fixed:
      description: Whether the file was corrected (in check mode, would be).
      returned: always
      type: bool
      sample: false
    note:
      description: Why a file that violates the policy was not corrected, or V(null).
      returned: always
      type: str
      sample: "not fixable: the query is not a plain field path"
    policy_model:
      description: The model the policy gives the agent, the one a corrected file now holds.
      returned: when O(fix=true)
      type: str
      sample: claude-haiku-4-5
    policy_rule:
      description: Which part of the policy gave it, V(agent) (the exact name), C(pattern <pattern>) or V(default).
      returned: when O(fix=true)
      type: str
      sample: default
    compliant:
      description: Whether the model read complied with the policy (see O(model_match)), before any correction.
      returned: when O(fix=true)
      type: bool
      sample: false
errors:
  description:
    - Files that could not be read or corrected, never with their content, for the C(include_errors) option of
      M(jada.agent.agent_model_audit).
    - Each entry has C(source_type) (V(json_file)), C(source) (the path), C(error) (what is wrong) and C(line) and
      C(column) (the 1-based position of a JSON error, or V(null)).
  returned: always
  type: list
  elements: dict
  sample: [{"source_type": "json_file", "source": "/opt/jada/lambda/broken/config.json", "line": 3, "column": 5,
            "error": "line 3, column 5: invalid JSON: Expecting ',' delimiter"}]
changed:
  description: Whether a file was corrected or, in check mode, would be.
  returned: always
  type: bool
  sample: false
diff:
  description: One entry per file corrected, with only the agent, the file and the model before and after.
  returned: in diff mode, when something was corrected
  type: list
  elements: dict
  sample: [{"before_header": "json_file /opt/jada/lambda/validator/config.json (agent validator)",
            "before": "model: claude-sonnet-4-6\n",
            "after_header": "json_file /opt/jada/lambda/validator/config.json (agent validator)",
            "after": "model: claude-haiku-4-5\n"}]
"""

import glob
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.jada.agent.plugins.module_utils import claude_settings_json as settings_json
from ansible_collections.jada.agent.plugins.module_utils import model_policy
from ansible_collections.jada.agent.plugins.module_utils.atomic_file import replace_file
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import SettingsError


TEMP_SUFFIX = '.agent_model_files.tmp'


def read_json_model(text, query):
    """``(document, model)`` of a JSON text; the top-level model goes through the strict settings parser."""
    if query.path == [settings_json.MODEL_KEY]:
        member = settings_json.parse(text).model
        return model_policy.load_json(text), (None if member is None else member.value)
    document = model_policy.load_json(text)
    return document, query.search(document)


def write_fixed(module, real, original, new):
    """Replace ``real`` with ``new`` unless its bytes are no longer ``original``."""
    def unchanged_since_read(temporary):
        with open(real, 'rb') as handle:
            if handle.read() != original:
                raise SettingsError('the file changed while it was being fixed; run the audit again')

    # atomic_move gives the new file the mode, owner and SELinux context of the one it replaces.
    replace_file(real, new.encode('utf-8'), prepare=unchanged_since_read, move=module.atomic_move, suffix=TEMP_SUFFIX)


def fix_json_file(module, findings, row, field_path):
    path = row['source']
    real = os.path.realpath(path)
    try:
        with open(real, 'rb') as handle:
            original = handle.read()
        text = settings_json.decode(original)
        new = settings_json.set_path(text, field_path, row['policy_model'])
        if new == text:
            return
        if not module.check_mode:
            write_fixed(module, real, original, new)
    except SettingsError as exc:
        findings.error('json_file', path, 'not fixed: %s' % exc, exc.line, exc.column)
        return
    except (IOError, OSError) as exc:
        findings.error('json_file', path, 'not fixed: %s' % (exc.strerror or type(exc).__name__))
        return
    findings.fixed(row, before=row['model'])


def read_json_files(module, findings, policy, source):
    query = model_policy.compile_query(source['query'])
    for path in sorted(set(glob.glob(source['glob'], recursive=True))):
        if not os.path.isfile(path) or not findings.first_time(os.path.realpath(path), query.expression):
            continue
        try:
            with open(path, 'rb') as handle:
                text = settings_json.decode(handle.read())
            document, model = read_json_model(text, query)
        except SettingsError as exc:
            findings.error('json_file', path, str(exc), exc.line, exc.column)
            continue
        except (IOError, OSError) as exc:
            findings.error('json_file', path, 'cannot read: %s' % (exc.strerror or type(exc).__name__))
            continue
        if model is not None and not isinstance(model, str):
            findings.error('json_file', path, "query '%s' found %s, not a string"
                           % (query.expression, settings_json.type_name(model)))
            continue
        try:
            agent = model_policy.agent_from_path(path, source['agent_name'], document)
        except ValueError as exc:
            findings.error('json_file', path, str(exc))
            continue
        row = dict(agent=agent, source_type='json_file', source=path, source_name=source['source_name'],
                   model=model or None, fixed=False, note=None)
        findings.rows.append(row)
        if not module.params['fix']:
            continue
        row.update(policy.verdict(agent, model))
        if row['compliant']:
            continue
        if query.path is None:
            model_policy.add_note(row, 'not fixable: the query is not a plain field path')
        else:
            fix_json_file(module, findings, row, query.path)


def check_queries(module):
    """Fail naming the expression when a query or an agent-name query cannot be used."""
    for source in module.params['json_files']:
        expressions = [source['query']]
        if source['agent_name'].startswith('query:'):
            expressions.append(source['agent_name'][len('query:'):])
        elif source['agent_name'] not in ('parent', 'stem'):
            module.fail_json(msg="json_files agent_name must be 'parent', 'stem' or 'query:<JMESPath>', got '%s'"
                             % source['agent_name'])
        for expression in expressions:
            try:
                model_policy.compile_query(expression)
            except model_policy.QueryError as exc:
                if exc.missing_library:
                    module.fail_json(msg='%s. %s' % (exc, missing_required_lib('jmespath')),
                                     exception=model_policy.JMESPATH_IMPORT_ERROR)
                module.fail_json(msg='json_files (glob %s): %s' % (source['glob'], exc))


def argument_spec():
    spec = dict(
        json_files=dict(type='list', elements='dict', required=True, options=dict(
            glob=dict(type='path', required=True),
            query=dict(type='str', default='model'),
            agent_name=dict(type='str', default='parent'),
            source_name=dict(type='str'),
        )),
        fix=dict(type='bool', default=False),
    )
    spec.update(model_policy.policy_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        policy = model_policy.AuditPolicy.from_params(module.params)
    except model_policy.PolicyError as exc:
        module.fail_json(msg=str(exc))
    check_queries(module)

    findings = model_policy.Findings(diff=module._diff)
    for source in module.params['json_files']:
        read_json_files(module, findings, policy, source)
    rows = sorted(findings.rows, key=lambda row: (row['agent'], row['source']))
    result = dict(changed=findings.changed, rows=rows, errors=findings.errors)
    if module._diff and findings.diffs:
        result['diff'] = findings.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
