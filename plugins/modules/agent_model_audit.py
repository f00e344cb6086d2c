#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
---
module: agent_model_audit
short_description: Rate the Claude models of downstream agents against a policy and estimate their monthly cost
version_added: 0.1.0
description:
  - Finds the model settings of agents in SSM parameters (O(ssm_paths)) and in Lambda functions' environment variables
    (O(lambda_functions)), takes the rows that M(jada.agent.agent_model_files) read from JSON files on the hosts
    (O(include_rows)), compares each model with the one the policy gives the agent, and estimates the monthly cost of
    each agent as configured and under the policy.
  - Returns one row per source in RV(rows), a summary, a plain fixed-width text table in RV(table), and the sources
    that could not be read in RV(errors).
  - Every row is rated here, once. The one exception is a host row that already carries the policy's verdict because
    M(jada.agent.agent_model_files) corrected files with its C(fix) option; such a row keeps that verdict, so that the
    report says what the host acted on, and its cost is still estimated here.
  - The policy is data. O(policy) gives a model per agent name or fnmatch pattern, O(default_model) covers every other
    agent. An exact agent name wins over a pattern, the first matching pattern in list order wins over later ones, and
    the default applies only when nothing matches. Names and patterns are case-sensitive.
  - With O(fix=true) it corrects the SSM parameters that violate the policy. Lambda functions are only reported unless
    O(fix_lambda=true) too. JSON files are corrected on their hosts by M(jada.agent.agent_model_files).
  - AWS clients are only created when O(ssm_paths) or O(lambda_functions) is given, so rating O(include_rows) alone
    needs neither boto3 nor credentials.
  - SecureString values are decrypted to be compared, and are never returned, logged or shown in a diff; their row
    shows the model as C((SecureString, hidden)).
author:
  - jada.agent maintainers (@jada)
options:
  ssm_paths:
    description:
      - SSM parameter hierarchies holding agents' models, read with C(GetParametersByPath) and decryption.
      - C(String) and C(StringList) values are read as the model. C(SecureString) values are decrypted to be compared
        and never returned.
      - A parameter found under several hierarchies gives one row.
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
  include_rows:
    description:
      - The C(rows) that M(jada.agent.agent_model_files) returned (for example those of every host), rated here under
        this run's options and reported with this run's rows.
      - A row that carries a verdict (C(policy_model), C(policy_rule) and C(compliant)) keeps it, as does its C(fixed)
        flag; its C(note) follows the notes on its cost. A C(host) key, when present, is kept and shown in the table.
      - An empty list still counts as something to audit, for example hosts without agent files.
    type: list
    elements: dict
  include_errors:
    description:
      - The C(errors) that M(jada.agent.agent_model_files) returned, reported in RV(errors) before this run's own and
        counted in the summary. A C(host) key, when present, is kept.
    type: list
    elements: dict
    version_added: 0.2.0
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
  fix:
    description:
      - Correct the SSM parameters that violate the policy by writing the policy model verbatim.
      - SSM parameters are overwritten with the same type, tier and, for C(SecureString), the same KMS key.
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
    when an AWS source is configured, so a run that only rates O(include_rows) works without boto3.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - jada.agent.model_policy
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
      - One entry per fixed source with the agent, the source and the model before and after; never a SecureString
        value.
  platform:
    platforms: posix
seealso:
  - module: jada.agent.agent_model_files
"""

EXAMPLES = r"""
- name: Read the models of the agents' config files on every host
  jada.agent.agent_model_files:
    json_files:
      - glob: /opt/jada/lambda/*/config.json
      - glob: /opt/jada/agents/**/settings.json
  register: host_files

- name: Audit SSM and Lambda from the controller with the hosts' rows, and show the table
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
    include_rows: "{{ groups['agents'] | map('extract', hostvars, 'host_files') | map(attribute='rows') | flatten }}"
    include_errors: "{{ groups['agents'] | map('extract', hostvars, 'host_files') | map(attribute='errors') | flatten }}"
  delegate_to: localhost
  run_once: true
  register: audit

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ audit.table.splitlines() }}"

- name: Correct SSM parameters, and Lambda functions too
  jada.agent.agent_model_audit:
    ssm_paths:
      - path: /jada/agents/
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
      description: The C(source_name) label of an included row, or V(null).
      returned: always
      type: str
      sample: lambda-configs
    host:
      description: The C(host) of an included row.
      returned: when the included row has one
      type: str
      sample: agent-host-1
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
    host:
      description: The C(host) of an error from O(include_errors).
      returned: when the included error has one
      type: str
      sample: agent-host-1
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

from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff
from ansible_collections.jada.agent.plugins.module_utils.model_policy import (
    AuditPolicy,
    Findings,
    PolicyError,
    add_note,
    policy_argument_spec,
    render_table,
)


# --- SSM ----------------------------------------------------------------------------------------------

@retry_with_backoff
def paginate(client, operation, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()


def ssm_agent(name, how):
    segments = [segment for segment in name.split('/') if segment]
    if how == 'leaf':
        return segments[-1] if segments else None
    return segments[-2] if len(segments) > 1 else None


def fix_ssm_parameter(module, findings, client, row, parameter):
    secure = parameter['Type'] == 'SecureString'
    if not module.check_mode:
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
    findings.fixed(row, secure=secure, before=None if secure else parameter.get('Value'))


def audit_ssm_path(module, findings, policy, client, source):
    try:
        parameters = paginate(client, 'get_parameters_by_path', Path=source['path'], Recursive=source['recursive'],
                              WithDecryption=True)['Parameters']
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the SSM parameters under '%s'" % source['path'],
                             **findings.so_far())
    for parameter in sorted(parameters, key=lambda item: item['Name']):
        name = parameter['Name']
        if not fnmatch.fnmatchcase(name, source['name_filter']) or not findings.first_time('ssm', name):
            continue
        agent = ssm_agent(name, source['agent_name'])
        if not agent:
            findings.error('ssm', name, "the parameter name has no %s segment to name the agent after"
                           % ('parent' if source['agent_name'] == 'parent' else 'last'))
            continue
        secure = parameter['Type'] == 'SecureString'
        row = policy.row(agent, 'ssm', name, parameter.get('Value'), secure=secure)
        findings.rows.append(row)
        if module.params['fix'] and not row['compliant']:
            try:
                fix_ssm_parameter(module, findings, client, row, parameter)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to fix the SSM parameter '%s'" % name, **findings.so_far())


# --- Lambda -------------------------------------------------------------------------------------------

def fix_lambda_function(module, findings, client, row, function, variable):
    variables = dict((function.get('Environment') or {}).get('Variables') or {})
    before = variables.get(variable)
    if not module.check_mode:
        variables[variable] = row['policy_model']
        request = dict(FunctionName=function['FunctionArn'], Environment=dict(Variables=variables))
        # Refuse to overwrite a configuration someone changed since it was listed.
        if function.get('RevisionId'):
            request['RevisionId'] = function['RevisionId']
        try:
            client.update_function_configuration(aws_retry=True, **request)
        except is_boto3_error_code(['PreconditionFailedException', 'ResourceConflictException']):
            findings.error('lambda', function['FunctionArn'],
                           'not fixed: the function was being updated or changed since it was read; run again')
            return
    findings.fixed(row, before=before)


def audit_lambda(module, findings, policy, client, options):
    variable = options['variable']
    try:
        functions = paginate(client, 'list_functions')['Functions']
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg='Failed to list the Lambda functions', **findings.so_far())
    for function in sorted(functions, key=lambda item: item['FunctionName']):
        name = function['FunctionName']
        if options['name_filter'] and not fnmatch.fnmatchcase(name, options['name_filter']):
            continue
        variables = (function.get('Environment') or {}).get('Variables') or {}
        if variable not in variables and not options['report_unset']:
            continue
        row = policy.row(name, 'lambda', function['FunctionArn'], variables.get(variable))
        findings.rows.append(row)
        if not module.params['fix'] or row['compliant'] or variable not in variables:
            continue
        if not module.params['fix_lambda']:
            add_note(row, 'report only: fix_lambda is false')
        else:
            try:
                fix_lambda_function(module, findings, client, row, function, variable)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to fix the Lambda function '%s'" % name, **findings.so_far())


# --- the module ---------------------------------------------------------------------------------------

def argument_spec():
    spec = dict(
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
        pricing=dict(type='dict'),
        # Token counts, not access tokens.
        token_volumes=dict(type='dict', no_log=False),
        default_token_volume=dict(type='dict', no_log=False, options=dict(
            input=dict(type='float', required=True),
            output=dict(type='float', required=True),
        )),
        include_rows=dict(type='list', elements='dict'),
        include_errors=dict(type='list', elements='dict'),
        fix=dict(type='bool', default=False),
        fix_lambda=dict(type='bool', default=False),
    )
    spec.update(policy_argument_spec())
    return spec


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
        # boto3 is only needed for the AWS sources; rating the hosts' rows alone works without it.
        check_boto3=False,
    )
    params = module.params
    # An empty include_rows still counts: the hosts were audited and had no agent files.
    if not (params['ssm_paths'] or params['lambda_functions'] is not None or params['include_rows'] is not None):
        module.fail_json(msg='Nothing to audit: give ssm_paths, lambda_functions or include_rows')
    if params['fix_lambda'] and not params['fix']:
        module.fail_json(msg='fix_lambda=true only takes effect with fix=true; set both to correct Lambda functions')
    try:
        policy = AuditPolicy.from_params(params)
        included = [policy.rate(row) for row in params['include_rows'] or []]
    except PolicyError as exc:
        module.fail_json(msg=str(exc))

    findings = Findings(diff=module._diff)
    findings.rows.extend(included)
    findings.errors.extend(params['include_errors'] or [])
    if params['ssm_paths'] or params['lambda_functions'] is not None:
        check_boto3(module)
        if params['ssm_paths']:
            client = module.client('ssm', retry_decorator=retry_with_backoff)
            for source in params['ssm_paths']:
                audit_ssm_path(module, findings, policy, client, source)
        if params['lambda_functions'] is not None:
            client = module.client('lambda', retry_decorator=retry_with_backoff)
            audit_lambda(module, findings, policy, client, params['lambda_functions'])

    rows = sorted(findings.rows, key=lambda row: (row['agent'], row['source_type'], str(row.get('source') or ''),
                                                  str(row.get('host') or '')))
    summary = policy.summary(rows, findings.errors)
    result = dict(changed=findings.changed, rows=rows, summary=summary, errors=findings.errors,
                  table=render_table(rows, summary, check_mode=module.check_mode))
    if module._diff and findings.diffs:
        result['diff'] = findings.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
