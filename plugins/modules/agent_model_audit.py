#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
---
module: agent_model_audit
short_description: Audit the Claude models of downstream agents against a policy and estimate their monthly cost
version_added: 0.1.0
description:
  - Finds the model settings of agents in JSON files on the host (O(json_files)), in SSM parameters (O(ssm_paths)) and
    in Lambda functions' environment variables (O(lambda_functions)), compares each with the model the policy gives
    the agent, and estimates the monthly cost of each agent as configured and under the policy.
  - Returns one row per source in RV(rows), a summary, a plain fixed-width text table in RV(table), and the sources
    that could not be read in RV(errors).
  - The policy is data. O(policy) gives a model per agent name or fnmatch pattern, O(default_model) covers every other
    agent. An exact agent name wins over a pattern, the first matching pattern in list order wins over later ones, and
    the default applies only when nothing matches. Names and patterns are case-sensitive.
  - With O(fix=true) it corrects the SSM parameters and JSON files that violate the policy. Lambda functions are only
    reported unless O(fix_lambda=true) too.
  - AWS clients are only created when O(ssm_paths) or O(lambda_functions) is given. Auditing JSON files needs neither
    boto3 nor credentials, so the module can run on every host for its files and once on the controller for AWS,
    with O(include_rows) merging the results.
  - SecureString values are decrypted to be compared, and are never returned, logged or shown in a diff; their row
    shows the model as C((SecureString, hidden)).
author:
  - jada.agent maintainers (@jada)
options:
  json_files:
    description:
      - JSON files on the host that hold an agent's model, one entry per set of files.
      - Each file matched is one row. A file that cannot be read or is not strict JSON is listed in RV(errors) with its
        path, line and column (never its content) and the other sources are still reported.
    type: list
    elements: dict
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
          - A result of V(null) is reported as no model set (not compliant). Any other non-string result is an error
            of that file.
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
  ssm_paths:
    description:
      - SSM parameter hierarchies holding agents' models, read with C(GetParametersByPath) and decryption.
      - C(String) and C(StringList) values are read as the model. C(SecureString) values are decrypted to be compared
        and never returned.
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - The hierarchy, for example C(/jada/agents/).
        type: str
        required: true
      recursive:
        description:
          - Whether to read the whole hierarchy below O(ssm_paths[].path) or only its direct children.
        type: bool
        default: true
      name_filter:
        description:
          - fnmatch pattern the full parameter name must match, so that other parameters of an agent (such as an API
            key) are never read as a model. The default keeps parameters whose last segment is C(model).
        type: str
        default: '*/model'
      agent_name:
        description:
          - V(parent) names the agent after the segment before the last, so C(/jada/agents/validator/model) belongs to
            C(validator).
          - V(leaf) names it after the last segment, for parameters such as C(/jada/agent-models/validator); set
            O(ssm_paths[].name_filter) to V(*) then.
        type: str
        choices: [parent, leaf]
        default: parent
  lambda_functions:
    description:
      - Audit the Lambda functions of the region (their C($LATEST) configuration). The agent is the function name, the
        source its ARN.
      - Only the one environment variable is read; other variables are never returned.
    type: dict
    suboptions:
      variable:
        description:
          - The environment variable holding the model.
        type: str
        default: ANTHROPIC_MODEL
      name_filter:
        description:
          - fnmatch pattern (case-sensitive) the function name must match, for example V(jada-*).
        type: str
      report_unset:
        description:
          - Functions without O(lambda_functions.variable) are skipped by default, since most functions of an account
            are not agents. With V(true) they are reported as no model set (not compliant, never fixed).
        type: bool
        default: false
  policy:
    description:
      - The model each agent should use, as a list of agent names or fnmatch patterns and their model.
      - An exact name wins over patterns; among patterns the first match in list order wins; O(default_model) applies
        when nothing matches.
    type: list
    elements: dict
    default: [{agent: orchestrator, model: claude-sonnet-4-6}]
    suboptions:
      agent:
        description:
          - Agent name or fnmatch pattern, for example V(orchestrator) or V(research-*).
        type: str
        required: true
      model:
        description:
          - The model the agent should use.
        type: str
        required: true
  default_model:
    description:
      - The model of every agent that O(policy) does not name.
    type: str
    default: claude-haiku-4-5
  model_match:
    description:
      - V(canonical) counts every spelling of the policy model as compliant, so for C(claude-haiku-4-5) the dated
        C(claude-haiku-4-5-20251001), the Bedrock C(us.anthropic.claude-haiku-4-5-20251001-v1:0), the Vertex
        C(claude-haiku-4-5@20251001) and the Claude Code alias C(haiku) all comply.
      - V(exact) requires the very string of the policy.
    type: str
    choices: [canonical, exact]
    default: canonical
  pricing:
    description:
      - 'USD per million tokens by model name or fnmatch pattern, each as a dictionary with C(input) and C(output), for
        example C({"claude-opus-4-1": {"input": 15, "output": 75}}).'
      - Entries are tried before the built-in table, which they extend and override. Built in are C(claude-haiku-4-5)
        1 input / 5 output, C(claude-sonnet-4-5) and C(claude-sonnet-4-6) 3 / 15, and C(claude-opus-4-5) 5 / 25 (Opus
        was added beyond the audit's brief; check it against the current price list).
      - A key naming a model matches every spelling of it (see O(model_match)). A model without a price gets a cost of
        V(null) and a note.
    type: dict
  token_volumes:
    description:
      - Millions of tokens per month by agent name or fnmatch pattern, each as a dictionary with C(input) and C(output);
        matched like O(policy).
      - An agent without a volume (and without O(default_token_volume)) gets a cost of V(null).
    type: dict
  default_token_volume:
    description:
      - Millions of tokens per month of every agent that O(token_volumes) does not name.
    type: dict
    suboptions:
      input:
        description: Millions of input tokens per month.
        type: float
        required: true
      output:
        description: Millions of output tokens per month.
        type: float
        required: true
  include_rows:
    description:
      - Rows returned by other runs of this module (for example one per host), to report together with this run's.
        Their policy, compliance and cost are evaluated again under this run's options, except that a secure row keeps
        its compliant flag and cost. A C(host) key, when present, is kept and shown in the table.
    type: list
    elements: dict
  fix:
    description:
      - Correct the SSM parameters and JSON files that violate the policy by writing the policy model verbatim.
      - SSM parameters are overwritten with the same type, tier and, for C(SecureString), the same KMS key.
      - JSON files are replaced atomically, keeping their mode and owner. When the query is the top-level V(model), only
        the bytes of that value change (the key is added when missing). An existing nested key also has only its
        value's bytes changed. A missing nested key is added by re-serialising the file with its detected indentation;
        then whitespace, escapes and number spellings elsewhere may change, key order is kept.
    type: bool
    default: false
  fix_lambda:
    description:
      - With O(fix=true), also correct Lambda functions by updating the one environment variable, keeping all the
        others.
    type: bool
    default: false
notes:
  - The compliant flag of a row describes the value found; RV(rows[].fixed) says whether it was corrected (or, in check
    mode, would be).
  - An agent found in several sources counts once in RV(summary); its estimated cost is the highest of its rows' costs.
  - The costs of a SecureString row are computed from its value, so they hint at the model's price class.
  - Permissions needed, by source, C(ssm:GetParametersByPath) with C(kms:Decrypt) for SecureStrings,
    C(ssm:DescribeParameters) and C(ssm:PutParameter) to fix, C(lambda:ListFunctions), and
    C(lambda:UpdateFunctionConfiguration) to fix.
  - The module is created with the C(check_boto3=False) setting of C(AnsibleAWSModule) and checks for boto3 itself
    when an AWS source is configured, so file-only runs work on hosts without boto3.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be fixed (RV(rows[].fixed), RV(changed)) and changes nothing.
  diff_mode:
    support: full
    details:
      - One entry per fixed source with the agent, the source and the model before and after; never file content and
        never a SecureString value.
  platform:
    platforms: posix
requirements:
  - jmespath, on the host, only for O(json_files[].query) or C(query:) agent names that are not plain dotted field paths
"""

EXAMPLES = r"""
- name: Audit the agents' config files on this host
  jada.agent.agent_model_audit:
    json_files:
      - glob: /opt/jada/lambda/*/config.json
      - glob: /opt/jada/agents/**/settings.json
        query: model
    default_token_volume:
      input: 20
      output: 4
  register: host_audit

- name: Audit SSM and Lambda from the controller, merge the hosts' rows and show the table
  jada.agent.agent_model_audit:
    region: eu-west-1
    ssm_paths:
      - path: /jada/agents/
    lambda_functions:
      variable: ANTHROPIC_MODEL
      name_filter: jada-*
      report_unset: true
    policy:
      - agent: orchestrator
        model: claude-sonnet-4-6
      - agent: research-*
        model: claude-sonnet-4-6
    default_model: claude-haiku-4-5
    token_volumes:
      orchestrator: {input: 120, output: 30}
      research-*: {input: 40, output: 10}
    default_token_volume: {input: 15, output: 3}
    include_rows: "{{ groups['agents'] | map('extract', hostvars, 'host_audit') | map(attribute='rows') | flatten }}"
  delegate_to: localhost
  run_once: true
  register: audit

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ audit.table.splitlines() }}"

- name: Correct SSM parameters and files, and Lambda functions too
  jada.agent.agent_model_audit:
    ssm_paths:
      - path: /jada/agents/
    json_files:
      - glob: /opt/jada/lambda/*/config.json
        query: agent.model
    lambda_functions: {}
    fix: true
    fix_lambda: true

- name: Parameters named after the agent, price a model the built-in table lacks
  jada.agent.agent_model_audit:
    ssm_paths:
      - path: /jada/agent-models
        agent_name: leaf
        name_filter: '*'
    pricing:
      claude-opus-4-1*: {input: 15, output: 75}
    default_token_volume: {input: 10, output: 2}
"""

RETURN = r"""
changed:
  description: Whether a source was fixed or, in check mode, would be.
  returned: always
  type: bool
  sample: false
rows:
  description: One entry per source found, sorted by agent, source type and source; rows of O(include_rows) included.
  returned: always
  type: list
  elements: dict
  contains:
    agent:
      description: The agent's name.
      returned: always
      type: str
      sample: validator
    source_type:
      description: V(json_file), V(ssm) or V(lambda).
      returned: always
      type: str
      sample: ssm
    source:
      description: The file path, the parameter name or the function ARN.
      returned: always
      type: str
      sample: /jada/agents/validator/model
    source_name:
      description: The O(json_files[].source_name) label, or V(null).
      returned: always
      type: str
      sample: lambda-configs
    model:
      description: The model found, V(null) when none is set, or C((SecureString, hidden)).
      returned: always
      type: str
      sample: claude-haiku-4-5
    secure:
      description: Whether the value is a SecureString (and so hidden).
      returned: always
      type: bool
      sample: false
    policy_model:
      description: The model the policy gives the agent.
      returned: always
      type: str
      sample: claude-haiku-4-5
    policy_rule:
      description: What gave the policy model, V(agent) (exact name), C(pattern <pattern>) or V(default).
      returned: always
      type: str
      sample: default
    compliant:
      description: Whether the model found matches the policy model (see O(model_match)).
      returned: always
      type: bool
      sample: true
    fixed:
      description: Whether the source was corrected (in check mode, would be).
      returned: always
      type: bool
      sample: false
    monthly_cost_usd:
      description: Estimated monthly USD cost with the model found, or V(null) without a price or a token volume.
      returned: always
      type: float
      sample: 35.0
    policy_monthly_cost_usd:
      description: Estimated monthly USD cost with the policy model, or V(null).
      returned: always
      type: float
      sample: 35.0
    note:
      description: Why a cost is missing, why a source was not fixed, or V(null).
      returned: always
      type: str
      sample: no token volume for this agent
summary:
  description: Totals over RV(rows).
  returned: always
  type: dict
  contains:
    sources:
      description: Number of rows.
      returned: always
      type: int
      sample: 12
    agents:
      description: Number of distinct agents.
      returned: always
      type: int
      sample: 9
    compliant:
      description: Rows whose model complies.
      returned: always
      type: int
      sample: 10
    non_compliant:
      description: Rows whose model does not comply (fixed ones included).
      returned: always
      type: int
      sample: 2
    non_compliant_agents:
      description: Sorted names of the agents with a non-compliant row.
      returned: always
      type: list
      elements: str
      sample: [validator]
    fixed:
      description: Rows fixed (in check mode, that would be).
      returned: always
      type: int
      sample: 0
    errors:
      description: Number of entries in RV(errors).
      returned: always
      type: int
      sample: 0
    monthly_cost_usd:
      description: Estimated monthly USD cost of the agents as configured (each agent once, its highest row cost);
        V(null) when no agent has a cost.
      returned: always
      type: float
      sample: 520.0
    policy_monthly_cost_usd:
      description: Estimated monthly USD cost of the agents under the policy.
      returned: always
      type: float
      sample: 480.0
    uniform_monthly_cost_usd:
      description: For each model of the policy, the monthly USD cost if every agent used it, to compare with the hybrid
        policy; V(null) for a model without a price.
      returned: always
      type: dict
      sample: {"claude-sonnet-4-6": 1110.0, "claude-haiku-4-5": 370.0}
    agents_without_cost:
      description: Agents whose cost could not be estimated.
      returned: always
      type: list
      elements: str
      sample: []
table:
  description: RV(rows) and the totals as a plain fixed-width text table.
  returned: always
  type: str
  sample: |
    AGENT      TYPE  SOURCE                        MODEL              POLICY             COMPLIANT  USD/MONTH  POLICY USD/MONTH
    ---------  ----  ----------------------------  -----------------  -----------------  ---------  ---------  ----------------
    validator  ssm   /jada/agents/validator/model  claude-sonnet-4-6  claude-haiku-4-5   no             60.00             20.00
errors:
  description: Sources that could not be read or fixed; never their content.
  returned: always
  type: list
  elements: dict
  contains:
    source_type:
      description: V(json_file), V(ssm) or V(lambda).
      returned: always
      type: str
      sample: json_file
    source:
      description: The path, parameter name or function ARN.
      returned: always
      type: str
      sample: /opt/jada/lambda/broken/config.json
    error:
      description: What is wrong.
      returned: always
      type: str
      sample: "line 3, column 5: invalid JSON: Expecting ',' delimiter"
    line:
      description: 1-based line of a JSON error, or V(null).
      returned: always
      type: int
      sample: 3
    column:
      description: 1-based column of a JSON error, or V(null).
      returned: always
      type: int
      sample: 5
diff:
  description: One entry per source fixed, with only the agent, the source and the model before and after.
  returned: in diff mode, when something was fixed
  type: list
  elements: dict
  sample: [{"before_header": "ssm /jada/agents/validator/model (agent validator)", "before": "model: claude-sonnet-4-6\n",
            "after_header": "ssm /jada/agents/validator/model (agent validator)", "after": "model: claude-haiku-4-5\n"}]
"""

import fnmatch
import glob
import os
import tempfile

try:
    import botocore
except ImportError:
    pass  # Checked in main(), only when an AWS source is configured

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.botocore import BOTO3_IMP_ERR
from ansible_collections.amazon.aws.plugins.module_utils.botocore import HAS_BOTO3
from ansible_collections.amazon.aws.plugins.module_utils.botocore import check_sdk_version_supported
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleBotocoreError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.jada.agent.plugins.module_utils import claude_settings_json as settings_json
from ansible_collections.jada.agent.plugins.module_utils.model_policy import (
    DEFAULT_MODEL,
    HIDDEN_MODEL,
    JMESPATH_IMPORT_ERROR,
    NO_MODEL,
    AuditPolicy,
    PolicyError,
    QueryError,
    SettingsError,
    agent_from_path,
    compile_query,
    load_json,
    render_table,
    set_field,
)


RETRY_OPTIONS = dict(retries=10, delay=3, backoff=2.0, max_delay=60, catch_extra_error_codes=['ThrottlingException'])
TEMP_SUFFIX = '.agent_model_audit.tmp'
TYPE_NAMES = {dict: 'an object', list: 'an array', bool: 'a boolean', int: 'a number', float: 'a number'}


class Audit(object):
    """What one run found and did: rows, errors, diffs, and whether anything changed."""

    def __init__(self, module, policy):
        self.module = module
        self.policy = policy
        self.rows = []
        self.errors = []
        self.diffs = []
        self.changed = False
        self._seen = set()

    def first_time(self, *key):
        """False for a source already audited, so that overlapping globs or paths give one row."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def error(self, source_type, source, message, line=None, column=None):
        self.errors.append(dict(source_type=source_type, source=source, error=message, line=line, column=column))

    def fixed(self, row, secure=False, before=None):
        """Record a fix (done, or due in check mode) of ``row``."""
        self.changed = True
        row['fixed'] = True
        if self.module._diff:
            header = '%s %s (agent %s)' % (row['source_type'], row['source'], row['agent'])
            shown_before = HIDDEN_MODEL if secure else (NO_MODEL if before is None else before)
            shown_after = HIDDEN_MODEL if secure else row['policy_model']
            self.diffs.append(dict(before_header=header, after_header=header, before='model: %s\n' % shown_before,
                                   after='model: %s\n' % shown_after))


def add_note(row, note):
    row['note'] = '; '.join(part for part in (row.get('note'), note) if part)


# --- JSON files ---------------------------------------------------------------------------------------

def read_json_model(text, query):
    """``(document, model)`` of a settings text; the top-level model goes through the strict settings parser."""
    if query.path == [settings_json.MODEL_KEY]:
        member = settings_json.parse(text).model
        return load_json(text), (None if member is None else member.value)
    document = load_json(text)
    return document, query.search(document)


def write_atomically(module, real, original, new):
    """Replace ``real`` with ``new`` unless its bytes are no longer ``original``; keeps mode and owner."""
    directory = os.path.dirname(real)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(real) + '.', suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(new.encode('utf-8'))
            handle.flush()
            os.fsync(handle.fileno())
        with open(real, 'rb') as handle:
            if handle.read() != original:
                raise SettingsError('the file changed while it was being fixed; run the audit again')
        # atomic_move gives the temporary file the target's mode, owner and SELinux context.
        module.atomic_move(tmp, real)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fix_json_file(audit, row, path, field_path):
    module = audit.module
    real = os.path.realpath(path)
    try:
        with open(real, 'rb') as handle:
            original = handle.read()
        text = settings_json.decode(original)
        new = set_field(text, field_path, row['policy_model'])
        if new == text:
            return
        if not module.check_mode:
            write_atomically(module, real, original, new)
    except SettingsError as exc:
        audit.error('json_file', path, 'not fixed: %s' % exc, exc.line, exc.column)
        return
    except (IOError, OSError) as exc:
        audit.error('json_file', path, 'not fixed: %s' % (exc.strerror or type(exc).__name__))
        return
    audit.fixed(row, before=row['model'])


def audit_json_files(audit, source):
    query = compile_query(source['query'])
    paths = sorted(set(glob.glob(source['glob'], recursive=True)))
    for path in paths:
        if not os.path.isfile(path) or not audit.first_time('json_file', os.path.realpath(path), query.expression):
            continue
        try:
            with open(path, 'rb') as handle:
                text = settings_json.decode(handle.read())
            document, model = read_json_model(text, query)
        except SettingsError as exc:
            audit.error('json_file', path, str(exc), exc.line, exc.column)
            continue
        except (IOError, OSError) as exc:
            audit.error('json_file', path, 'cannot read: %s' % (exc.strerror or type(exc).__name__))
            continue
        if model is not None and not isinstance(model, str):
            audit.error('json_file', path, "query '%s' found %s, not a string"
                        % (query.expression, TYPE_NAMES.get(type(model), 'a value')))
            continue
        try:
            agent = agent_from_path(path, source['agent_name'], document)
        except ValueError as exc:
            audit.error('json_file', path, str(exc))
            continue
        row = audit.policy.row(agent, 'json_file', path, model, source_name=source['source_name'])
        audit.rows.append(row)
        if audit.module.params['fix'] and not row['compliant']:
            if query.path is None:
                add_note(row, 'not fixable: the query is not a plain field path')
            else:
                fix_json_file(audit, row, path, query.path)


# --- SSM ----------------------------------------------------------------------------------------------

@AWSRetry.jittered_backoff(**RETRY_OPTIONS)
def paginate(client, operation, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()


def ssm_agent(name, how):
    segments = [segment for segment in name.split('/') if segment]
    if how == 'leaf':
        return segments[-1] if segments else None
    return segments[-2] if len(segments) > 1 else None


def fix_ssm_parameter(audit, client, row, parameter):
    secure = parameter['Type'] == 'SecureString'
    if not audit.module.check_mode:
        described = paginate(client, 'describe_parameters',
                             ParameterFilters=[dict(Key='Name', Option='Equals', Values=[parameter['Name']])])
        found = described.get('Parameters') or [{}]
        request = dict(Name=parameter['Name'], Value=row['policy_model'], Type=parameter['Type'], Overwrite=True)
        # Without these, an overwrite would move the value to the default KMS key or the standard tier.
        if secure and found[0].get('KeyId'):
            request['KeyId'] = found[0]['KeyId']
        if found[0].get('Tier'):
            request['Tier'] = found[0]['Tier']
        client.put_parameter(aws_retry=True, **request)
    audit.fixed(row, secure=secure, before=None if secure else parameter.get('Value'))


def audit_ssm_path(audit, client, source):
    module = audit.module
    try:
        parameters = paginate(client, 'get_parameters_by_path', Path=source['path'], Recursive=source['recursive'],
                              WithDecryption=True)['Parameters']
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the SSM parameters under '%s'" % source['path'],
                             **audit_result(audit))
    for parameter in sorted(parameters, key=lambda item: item['Name']):
        name = parameter['Name']
        if not fnmatch.fnmatchcase(name, source['name_filter']) or not audit.first_time('ssm', name):
            continue
        agent = ssm_agent(name, source['agent_name'])
        if not agent:
            audit.error('ssm', name, "the parameter name has no %s segment to name the agent after"
                        % ('parent' if source['agent_name'] == 'parent' else 'last'))
            continue
        secure = parameter['Type'] == 'SecureString'
        row = audit.policy.row(agent, 'ssm', name, parameter.get('Value'), secure=secure)
        audit.rows.append(row)
        if module.params['fix'] and not row['compliant']:
            try:
                fix_ssm_parameter(audit, client, row, parameter)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to fix the SSM parameter '%s'" % name, **audit_result(audit))


# --- Lambda -------------------------------------------------------------------------------------------

def fix_lambda_function(audit, client, row, function, variable):
    variables = dict((function.get('Environment') or {}).get('Variables') or {})
    before = variables.get(variable)
    if not audit.module.check_mode:
        variables[variable] = row['policy_model']
        request = dict(FunctionName=function['FunctionArn'], Environment=dict(Variables=variables))
        # Refuse to overwrite a configuration someone changed since it was listed.
        if function.get('RevisionId'):
            request['RevisionId'] = function['RevisionId']
        try:
            client.update_function_configuration(aws_retry=True, **request)
        except is_boto3_error_code(['PreconditionFailedException', 'ResourceConflictException']):
            audit.error('lambda', function['FunctionArn'],
                        'not fixed: the function was being updated or changed since it was read; run again')
            return
    audit.fixed(row, before=before)


def audit_lambda(audit, client, options):
    module = audit.module
    variable = options['variable']
    try:
        functions = paginate(client, 'list_functions')['Functions']
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg='Failed to list the Lambda functions', **audit_result(audit))
    for function in sorted(functions, key=lambda item: item['FunctionName']):
        name = function['FunctionName']
        if options['name_filter'] and not fnmatch.fnmatchcase(name, options['name_filter']):
            continue
        variables = (function.get('Environment') or {}).get('Variables') or {}
        if variable not in variables and not options['report_unset']:
            continue
        row = audit.policy.row(name, 'lambda', function['FunctionArn'], variables.get(variable))
        audit.rows.append(row)
        if not module.params['fix'] or row['compliant'] or variable not in variables:
            continue
        if not module.params['fix_lambda']:
            add_note(row, 'report only: fix_lambda is false')
        else:
            try:
                fix_lambda_function(audit, client, row, function, variable)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to fix the Lambda function '%s'" % name,
                                     **audit_result(audit))


# --- the module ---------------------------------------------------------------------------------------

def audit_result(audit):
    """What a failure still reports: anything already changed, and the rows so far."""
    return dict(changed=audit.changed, rows=list(audit.rows), errors=list(audit.errors))


def argument_spec():
    return dict(
        json_files=dict(type='list', elements='dict', options=dict(
            glob=dict(type='path', required=True),
            query=dict(type='str', default='model'),
            agent_name=dict(type='str', default='parent'),
            source_name=dict(type='str'),
        )),
        ssm_paths=dict(type='list', elements='dict', options=dict(
            path=dict(type='str', required=True),
            recursive=dict(type='bool', default=True),
            name_filter=dict(type='str', default='*/model'),
            agent_name=dict(type='str', default='parent', choices=['parent', 'leaf']),
        )),
        lambda_functions=dict(type='dict', options=dict(
            variable=dict(type='str', default='ANTHROPIC_MODEL'),
            name_filter=dict(type='str'),
            report_unset=dict(type='bool', default=False),
        )),
        policy=dict(type='list', elements='dict', default=[dict(agent='orchestrator', model='claude-sonnet-4-6')],
                    options=dict(agent=dict(type='str', required=True), model=dict(type='str', required=True))),
        default_model=dict(type='str', default=DEFAULT_MODEL),
        model_match=dict(type='str', default='canonical', choices=['canonical', 'exact']),
        pricing=dict(type='dict'),
        # Token counts, not access tokens.
        token_volumes=dict(type='dict', no_log=False),
        default_token_volume=dict(type='dict', no_log=False, options=dict(
            input=dict(type='float', required=True),
            output=dict(type='float', required=True),
        )),
        include_rows=dict(type='list', elements='dict'),
        fix=dict(type='bool', default=False),
        fix_lambda=dict(type='bool', default=False),
    )


def check_queries(module):
    """Fail naming the expression when a query or an agent-name query cannot be used."""
    for source in module.params['json_files'] or []:
        expressions = [source['query']]
        if source['agent_name'].startswith('query:'):
            expressions.append(source['agent_name'][len('query:'):])
        elif source['agent_name'] not in ('parent', 'stem'):
            module.fail_json(msg="json_files agent_name must be 'parent', 'stem' or 'query:<JMESPath>', got '%s'"
                             % source['agent_name'])
        for expression in expressions:
            try:
                compile_query(expression)
            except QueryError as exc:
                if exc.missing_library:
                    module.fail_json(msg='%s. %s' % (exc, missing_required_lib('jmespath')),
                                     exception=JMESPATH_IMPORT_ERROR)
                module.fail_json(msg='json_files (glob %s): %s' % (source['glob'], exc))


def check_boto3(module):
    if not HAS_BOTO3:
        module.fail_json(msg='%s (needed for ssm_paths and lambda_functions only)'
                         % missing_required_lib('boto3 and botocore'), exception=BOTO3_IMP_ERR)
    try:
        check_sdk_version_supported(warn=module.warn)
    except AnsibleBotocoreError as e:
        module.fail_json(msg=str(e))


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        # boto3 is only needed for the AWS sources; hosts auditing their files may lack it.
        check_boto3=False,
    )
    params = module.params
    # An empty include_rows still counts: the hosts were audited and had no agent files.
    if not (params['json_files'] or params['ssm_paths'] or params['lambda_functions'] is not None
            or params['include_rows'] is not None):
        module.fail_json(msg='Nothing to audit: give json_files, ssm_paths, lambda_functions or include_rows')
    if params['fix_lambda'] and not params['fix']:
        module.fail_json(msg='fix_lambda=true only takes effect with fix=true; set both to correct Lambda functions')
    try:
        policy = AuditPolicy(policy=params['policy'], default_model=params['default_model'],
                             pricing=params['pricing'], token_volumes=params['token_volumes'],
                             default_token_volume=params['default_token_volume'], match=params['model_match'])
        included = [policy.rerate(row) for row in params['include_rows'] or []]
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    check_queries(module)

    audit = Audit(module, policy)
    audit.rows.extend(included)
    for source in params['json_files'] or []:
        audit_json_files(audit, source)
    if params['ssm_paths'] or params['lambda_functions'] is not None:
        check_boto3(module)
        retry = AWSRetry.jittered_backoff(**RETRY_OPTIONS)
        if params['ssm_paths']:
            client = module.client('ssm', retry_decorator=retry)
            for source in params['ssm_paths']:
                audit_ssm_path(audit, client, source)
        if params['lambda_functions'] is not None:
            client = module.client('lambda', retry_decorator=retry)
            audit_lambda(audit, client, params['lambda_functions'])

    rows = sorted(audit.rows, key=lambda row: (row['agent'], row['source_type'], str(row.get('source') or ''),
                                               str(row.get('host') or '')))
    summary = policy.summary(rows, audit.errors)
    result = dict(changed=audit.changed, rows=rows, summary=summary, errors=audit.errors,
                  table=render_table(rows, summary, check_mode=module.check_mode))
    if module._diff and audit.diffs:
        result['diff'] = audit.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
