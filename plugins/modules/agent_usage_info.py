#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_usage_info
short_description: Token usage of Claude Code per model, read from its transcripts on the host
version_added: 0.1.0
description:
  - Reads the transcripts Claude Code writes under C(<config dir>/projects/) (one C(.jsonl) file per session, and one
    per subagent under C(<session>/subagents/)) and returns the tokens of its answers per model, per agent (main
    thread or subagents) and, with O(group_by=day), per UTC day, with their cost in USD and the latency of the
    answers.
  - Counts as C(ccusage claude daily) 20.0.24 counts, on the same files, the four token counts of each model
    (input, output, cache creation, cache read); its daily rows are those of C(ccusage -z UTC). Which lines count
    and how an answer written over several lines, or copied into other files, is counted once is documented in
    C(plugins/module_utils/agent_usage.py).
  - Reads each file line by line, never whole, and from where the previous run stopped (O(state_file)); memory
    stays near 65 bytes per answer however large the transcripts are.
  - With more than 32 MB to read, parses the lines in up to three forked worker processes (one per CPU), 4 MB at a
    time, and counts them in the order of the files and lines, so the result is the one a single process gives; without
    C(fork) or a process pool (no C(/dev/shm)), or when a worker dies, the module reads on by itself.
    C(make bench-usage) measures it against ccusage on 1 GB.
  - Never returns the text of a prompt, an answer or a tool result, nor any file content; only numbers, model IDs,
    file paths and timestamps.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads transcripts. In check mode it does not write O(state_file), so the next run reads again
        what this one read.
      - Outside check mode it writes O(state_file), its own cache, and still reports C(changed=false), because the
        state of the host it manages does not change.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  config_dirs:
    description:
      - Claude Code configuration directories to read, each with a C(projects/) directory (a path that is itself
        C(projects/) is taken as it is). Answers found in several of them are counted once.
      - Default the one of the service's CLI, see O(service) and O(user).
    type: list
    elements: path
  user:
    description:
      - The user the agent runs as; without O(config_dirs), its C(~/.claude) is read unless O(service) names another
        directory.
    type: str
    default: jada
  service:
    description:
      - The systemd service of the agent, without C(.service). Without O(config_dirs), its C(CLAUDE_CONFIG_DIR)
        (from C(Environment=), or from an C(EnvironmentFile=), which systemd applies later) is read when it sets one.
      - An empty value skips C(systemctl).
    type: str
    default: jada-agent
  since:
    description:
      - Only answers at or after this time, an ISO 8601 date or date and time (V(2026-11-30),
        V(2026-11-30T08:00:00Z), V(2026-11-30T09:00:00+01:00)); UTC when it has no offset.
    type: str
  until:
    description:
      - Only answers before this time (the bound itself is excluded), in the format of O(since).
    type: str
  group_by:
    description:
      - V(day) adds RV(days), the same figures per UTC day of the answers.
    type: str
    choices: [none, day]
    default: none
  state_file:
    description:
      - Where the module keeps, per transcript, how far it has read (device, inode, size, offset), and one compact
        record per answer counted so far, so that the next run reads only new bytes and still returns the totals
        over everything.
      - A transcript that shrank, was replaced (another inode) or rewritten is read again from its start, and what
        it gave before is taken back; a deleted one no longer counts (Claude Code deletes old transcripts after
        C(cleanupPeriodDays)).
      - V(null) or an empty string reads every transcript in full at each run and writes nothing.
      - Written with mode 0600, its directory created with mode 0750 when missing.
    type: path
    default: /var/lib/jada-agent/usage-state.json
  pricing:
    description:
      - Prices to add to or to replace in the built-in table, in USD per million tokens, keyed by model ID, each with
        C(input), C(output), C(cache_write_5m), C(cache_write_1h), C(cache_read) and optionally C(since) (the date the
        price took effect). A model the table knows takes the prices given and keeps its others; a new model needs
        all five.
      - A dated ID (C(claude-haiku-4-5-20251001)) is priced as its undated model (C(claude-haiku-4-5)) unless it has
        an entry of its own; no other name is ever priced as another model. A model without a price has
        C(cost_usd=null) and a warning names it.
    type: dict
  compare:
    description:
      - Also return RV(comparison), the figures per model in the O(window_days) before and after the last completed
        rollout of O(history_file), from the same read of the transcripts (O(since) and O(until) do not apply to it).
    type: bool
    default: false
  history_file:
    description:
      - The rollout history the orchestrator role appends to (one JSON line per finished rollout), read with
        O(compare). Only its last line with C(result=complete) counts; a missing file is no rollout yet, and lines
        that cannot be read (a torn last line) are skipped with a warning.
    type: path
    default: /var/lib/jada-agent/rollouts.jsonl
  window_days:
    description:
      - The length of each window of RV(comparison), in days.
    type: int
    default: 7
notes:
  - The built-in prices are Anthropic's list prices as of RV(pricing_date). Requests above 200k input tokens, fast
    mode (a model reported as C(<model>-fast)) and batch discounts are not priced.
  - C(ccusage) prices with its own table (and C(costUSD) of old transcripts), so costs may differ; token counts do not.
  - A line still being written (no newline yet) is left for the next run; C(ccusage) counts it when it parses.
  - An incremental run takes new lines in the order they arrive, C(ccusage) in the order of file paths. When duplicates
    of one answer sit in several files this order can decide which copy counts; a run without O(state_file) gives
    C(ccusage)'s figures exactly.
seealso:
  - module: jada.agent.agent_host_info
"""

EXAMPLES = r"""
- name: Read the agent's token usage since the start of the month, per day
  jada.agent.agent_usage_info:
    since: "2026-11-01"
    group_by: day
  register: usage

- name: Show the cost per model
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.requests }} answers, {{ item.value.cost_usd }} USD"
  loop: "{{ usage.models | dict2items }}"

- name: Compare each model's usage in the week before and the week after the last rollout
  jada.agent.agent_usage_info:
    compare: true
    window_days: 7
  register: usage

- name: Read another configuration directory in full, with a price the table lacks
  jada.agent.agent_usage_info:
    config_dirs:
      - /home/jada/.claude
    state_file: null
    pricing:
      claude-haiku-5:
        input: 1.0
        output: 5.0
        cache_write_5m: 1.25
        cache_write_1h: 2.0
        cache_read: 0.1
"""

RETURN = r"""
models:
  description:
    - Figures per model ID, as the transcripts name it (C(<model>-fast) for answers in fast mode), over the answers in
      the window.
    - C(requests) counts answers (an answer written over several lines once), C(cache_creation_input_tokens) the 5m
      and 1h cache writes together, C(api_errors) the failed API calls (assistant lines with C(isApiErrorMessage),
      C(system) lines with C(subtype=api_error)) under the model of the line, else of the file's latest answer, else
      of its next answer, else C(<synthetic>). C(cost_usd) is C(null) for a model with tokens but no price, 0 for one
      with API errors only.
  returned: always
  type: dict
  sample: {claude-sonnet-4-6: {requests: 42, input_tokens: 1830, output_tokens: 20311,
           cache_creation_input_tokens: 51234, cache_read_input_tokens: 1203345, api_errors: 1, cost_usd: 0.85893}}
totals:
  description:
    - The same figures over every model. The token counts also take answers without a model (as C(ccusage)'s totals
      do); C(cost_usd) is C(null) when a model with tokens has no price.
  returned: always
  type: dict
  sample: {requests: 42, input_tokens: 1830, output_tokens: 20311, cache_creation_input_tokens: 51234,
           cache_read_input_tokens: 1203345, api_errors: 1, cost_usd: 0.85893}
by_agent:
  description:
    - The figures of RV(models) split into C(main) (the agent's own thread) and C(subagents) (answers with
      C(isSidechain), the Task tool's subagents).
  returned: always
  type: dict
  sample: {main: {claude-sonnet-4-6: {requests: 30, input_tokens: 1200, output_tokens: 15000,
           cache_creation_input_tokens: 40000, cache_read_input_tokens: 900000, api_errors: 1, cost_usd: 0.615}},
           subagents: {}}
days:
  description:
    - With O(group_by=day), per UTC day (C(YYYY-MM-DD)) of the answers, C(models) (as RV(models)) and C(totals) (as
      RV(totals)).
  returned: when O(group_by=day)
  type: dict
  sample: {"2026-11-30": {models: {claude-haiku-4-5: {requests: 2, input_tokens: 24, output_tokens: 2,
           cache_creation_input_tokens: 0, cache_read_input_tokens: 0, api_errors: 0, cost_usd: 3.4e-05}},
           totals: {requests: 2, input_tokens: 24, output_tokens: 2, cache_creation_input_tokens: 0,
           cache_read_input_tokens: 0, api_errors: 0, cost_usd: 3.4e-05}}}
latency:
  description:
    - Per model, the 50th and 95th percentile (nearest rank) in milliseconds, and the number of samples, of the time
      from the last prompt or tool result written before an answer to the answer's first line, in the same file.
    - The CLI writes that line once the answer's first content block is complete, so this is the time to the first
      complete block, queueing and retries included, not the time to the first token. Every answer with such a line
      before it is a sample.
  returned: always
  type: dict
  sample: {claude-sonnet-4-6: {p50_ms: 2310, p95_ms: 9120, samples: 30}}
files:
  description: How many transcript files the figures cover.
  returned: always
  type: int
  sample: 12
bytes_read:
  description: Bytes of transcript read by this run (all of them without O(state_file) or at the first run).
  returned: always
  type: int
  sample: 48213
pricing_date:
  description: The date of the built-in price table.
  returned: always
  type: str
  sample: "2026-12-01"
comparison:
  description:
    - With O(compare), the last completed rollout (C(rollout), its line of O(history_file); C(null) when there is
      none, and then no windows and a warning) and the windows C(before), [S - O(window_days), S), and C(after), [E,
      min(E + O(window_days), now)), S when the rollout began (its line's C(started), else its C(time)) and E the
      second after its C(time), when it ended; the rollout itself, whose verification already runs on the new model,
      counts in neither window. Each window has C(since), C(until) (UTC), C(days) (the fraction of days it covers,
      less than O(window_days) for an C(after) window still open) and C(models).
    - Per model, the figures of RV(models), C(p50_ms) and C(p95_ms) (as RV(latency), null without a sample), and
      C(tasks), the prompts of the main agent whose first answer came from the model in the window (a C(type=user)
      line that is not a tool result, not a subagent's and not one the CLI adds itself; a prompt answered by an
      error is no task).
    - C(tokens_per_task) is the four token counts over C(tasks) (null without a task), C(cost_per_day) is C(cost_usd)
      over C(days) (fractional days, so a window open for half a day doubles its cost), C(error_rate) is
      C(api_errors) over C(requests) plus C(api_errors) (null without either).
  returned: when O(compare=true)
  type: dict
  sample: {rollout: {time: "2026-11-28T09:00:00Z", started: "2026-11-28T08:55:00Z",
                     rollout_id: "20261128T085500Z-1a2b3c", result: complete,
           from_model: claude-sonnet-4-5, to_model: claude-sonnet-4-6, from_cli_version: 2.1.300,
           to_cli_version: 2.1.328}, window_days: 7,
           before: {since: "2026-11-21T08:55:00Z", until: "2026-11-28T08:55:00Z", days: 7.0, models: {}},
           after: {since: "2026-11-28T09:00:01Z", until: "2026-12-01T09:00:01Z", days: 3.0,
           models: {claude-sonnet-4-6: {requests: 42, input_tokens: 1830, output_tokens: 20311,
           cache_creation_input_tokens: 51234, cache_read_input_tokens: 1203345, api_errors: 1, cost_usd: 0.85893,
           tasks: 12, p50_ms: 2310, p95_ms: 9120, tokens_per_task: 106393.3, cost_per_day: 0.28631,
           error_rate: 0.0233}}}}
config_dirs:
  description: The configuration directories read.
  returned: always
  type: list
  elements: str
  sample: [/home/jada/.claude]
"""

import json
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.module_utils import agent_usage
from ansible_collections.jada.agent.plugins.module_utils import atomic_file
from ansible_collections.jada.agent.plugins.module_utils import model_resolution

CONFIG_VARIABLE = 'CLAUDE_CONFIG_DIR'


def unit_config_dir(module, service):
    """The CLI's configuration directory as the service sets it (CLAUDE_CONFIG_DIR from Environment= and the
    EnvironmentFile=s, in systemd's order, relative to WorkingDirectory=, by the model-resolution engine's rule), or
    None when the unit sets none."""
    unit = service if '.' in service else service + '.service'
    try:
        rc, out, dummy = module.run_command(['systemctl', 'show', unit, '--property',
                                             'Environment,EnvironmentFiles,WorkingDirectory'], handle_exceptions=False)
    except (IOError, OSError):
        # No systemd on this host: the user's own directory is the CLI's.
        return None
    if rc != 0:
        return None
    show = agent_host.parse_show(out)
    environment = {}
    for dummy, values in agent_host.unit_environment_layers(show, unit):
        environment.update(values)
    if CONFIG_VARIABLE not in environment:
        return None
    return model_resolution.config_dir(environment, '/', show.get('WorkingDirectory') or '/')


def default_config_dirs(module, user, service):
    """The service's CLAUDE_CONFIG_DIR when it sets one, else ``~user/.claude``; [] when neither exists."""
    if service:
        value = unit_config_dir(module, service)
        if value:
            return [value]
    try:
        return [os.path.join(pwd.getpwnam(user).pw_dir, '.claude')]
    except KeyError:
        module.warn('user %s does not exist; give config_dirs to read another user\'s transcripts' % user)
        return []


def load_state(module, path):
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        module.warn('the usage state %s cannot be read (%s); every transcript is read again' % (path, exc))
        return None


def save_state(module, path, state):
    data = json.dumps(state, separators=(',', ':'), sort_keys=True).encode('utf-8')
    try:
        directory = os.path.dirname(path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o750)
        atomic_file.replace_file(path, data, prepare=lambda temporary: os.chmod(temporary, 0o600))
    except (IOError, OSError) as exc:
        # Only the next run's speed depends on it.
        module.warn('the usage state %s cannot be written (%s); the next run reads every transcript again'
                    % (path, exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dirs=dict(type='list', elements='path'),
            user=dict(type='str', default='jada'),
            service=dict(type='str', default='jada-agent'),
            since=dict(type='str'),
            until=dict(type='str'),
            group_by=dict(type='str', choices=list(agent_usage.GROUP_BY), default='none'),
            state_file=dict(type='path', default='/var/lib/jada-agent/usage-state.json'),
            pricing=dict(type='dict'),
            compare=dict(type='bool', default=False),
            history_file=dict(type='path', default='/var/lib/jada-agent/rollouts.jsonl'),
            window_days=dict(type='int', default=7),
        ),
        supports_check_mode=True,
    )
    params = module.params
    config_dirs = params['config_dirs']
    if config_dirs is None:
        config_dirs = default_config_dirs(module, params['user'], params['service'])
    state_file = params['state_file'] or None
    rollout = None
    if params['compare']:
        rollout, history_warnings = agent_usage.read_history(params['history_file'])
        for warning in history_warnings:
            module.warn(warning)
    try:
        # No reference to the old state is kept here, so that it is freed once read.
        result, state = agent_usage.collect_usage(config_dirs, state=load_state(module, state_file),
                                                  since=params['since'], until=params['until'],
                                                  group_by=params['group_by'], pricing=params['pricing'],
                                                  compare=params['compare'], rollout=rollout,
                                                  window_days=params['window_days'])
    except agent_usage.UsageError as exc:
        module.fail_json(msg='%s' % exc)
    for warning in result.pop('warnings'):
        module.warn(warning)
    if state_file and not module.check_mode:
        save_state(module, state_file, state)
    module.exit_json(changed=False, config_dirs=config_dirs, **result)


if __name__ == '__main__':
    main()
