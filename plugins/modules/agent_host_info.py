#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_host_info
short_description: Read the whole state of an agent orchestrator host in one call
version_added: 0.1.0
description:
  - Returns, in a single round trip, what the roles and playbooks of this collection compare with the
    desired state, so a converged host costs one module execution instead of one per file or service.
  - The model of each Claude Code settings file and of every place that outranks them (C(--model) in
    C(ExecStart), C(ANTHROPIC_MODEL) in the unit environment or in a settings file's C(env) block, C(--settings),
    C(settings.local.json), managed settings), and the exact model ID the installed CLI will request at its next
    start, decided by the collection's model resolution engine from the sources the unit's CLI really reads (its
    user's configuration directory, C(CLAUDE_CONFIG_DIR), its working directory, C(--settings),
    C(--setting-sources)), with the settings files it would skip and why.
  - The service state from C(systemctl show), the sha256 of the unit file and of each drop-in, the
    effective file-descriptor limits of the running process from C(/proc/<MainPID>/limits) (the only
    truthful source, because systemd silently clamps a C(LimitNOFILE) it cannot apply), and the kernel's
    C(fs.nr_open) and C(fs.file-max).
  - The installed Claude Code CLI at O(cli_path) and its version, for the role C(jada.agent.orchestrator).
  - Never returns the content of a settings or environment file; they hold secrets.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: The action plugin applies O(refuse) on the controller, around the module.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  service:
    description: Name of the systemd service, without C(.service).
    type: str
    default: jada-agent
  settings_files:
    description:
      - Claude Code settings files to read, lowest precedence first (the user's C(~/.claude/settings.json),
        then the repository's C(.claude/settings.json)), as Claude Code reads them.
      - C(~) and C(~user) expand on the host.
      - They give RV(settings) and RV(models) and bound RV(overrides). RV(effective_model) never depends on them; it
        comes from the files the service's CLI reads (the C(User=)'s configuration directory or C(CLAUDE_CONFIG_DIR),
        the C(WorkingDirectory=), C(--settings), managed settings).
    type: list
    elements: str
    default: []
  managed_settings_dir:
    description: Directory of Claude Code's managed settings, which outrank every other settings file.
    type: path
    default: /etc/claude-code
  files:
    description: Further files whose sha256 to return in RV(file_digests), for example a C(limits.d) file.
    type: list
    elements: path
    default: []
  cli_path:
    description:
      - Path of the Claude Code CLI the service runs, reported in RV(cli).
      - Its version comes from the C(package.json) of the npm package the resolved binary belongs to (a name
        starting with C(@anthropic-ai/claude-code)), without running anything. Only for a binary of no
        such package is C(<cli_path> --version) run, killed after 5 seconds.
    type: path
    default: /opt/jada/bin/claude
  output:
    description:
      - The file the agent's standard output (its stream-json answers) is appended to. Its tail gives RV(agent),
        the agent's latest answer; nothing of the answers' text is returned.
    type: path
    default: /var/log/jada-agent/output.jsonl
  desired:
    description:
      - The desired state of the host. When set, RV(planned_model) and RV(plan) say what a rollout would change and
        whether it must refuse, decided by the collection's one plan (C(module_utils/orchestrator_plan.py)); the role
        C(jada.agent.orchestrator) fills it from its variables.
      - Unit files are compared by the sha256 of their rendering on the controller, so no rendering happens here.
    type: dict
    suboptions:
      model:
        description: The model the rollout writes into O(settings_files).
        type: str
        required: true
      allowed_models:
        description: When not empty, O(desired.model) and the ID it resolves to must both be listed.
        type: list
        elements: str
        default: []
      cli_version:
        description: The CLI version to run (aliases resolve by version). Default the installed one, and no CLI change.
        type: str
      cli_package:
        description: The npm package of the CLI to run, for example C(@anthropic-ai/claude-code-linux-x64).
        type: str
      exec_start:
        description:
          - The C(ExecStart=) of the unit to install. The engine answers RV(planned_model) with its flags instead of
            the installed unit's.
        type: str
      environment:
        description:
          - The model-related variables of the unit's environment file to install (the filter
            C(jada.agent.model_environment) keeps only those); never pass API keys here.
        type: dict
        default: {}
      environment_file:
        description: The path of that environment file.
        type: path
      environment_sha256:
        description: The sha256 of the rendered environment file; unset when the unit gets none.
        type: str
      user:
        description: The C(User=) of the unit to install (whose configuration directory the CLI reads).
        type: str
      working_directory:
        description: The C(WorkingDirectory=) of the unit to install (whose C(.claude) the CLI reads).
        type: path
      unit_sha256:
        description: The sha256 of the rendered service unit. Ignored when O(desired.unit_content) is given.
        type: str
      unit_content:
        description:
          - The rendered service unit. With it, the module asks the host's systemd which directives of
            O(desired.hardening) it can apply, with C(systemd-run) transient units that run C(/bin/true) as the
            unit's user. It asks once per boot and keeps the answer under C(/run/jada-agent-hardening).
          - It then compares, and returns in RV(desired_unit), the unit without the directives the host cannot apply,
            each named in a warning.
          - In check mode too, because a transient unit leaves nothing behind; the answer is then not kept.
        type: str
      hardening:
        description:
          - The hardening directives written into O(desired.unit_content) (C(jada_agent_hardening) combined with its
            overrides), the ones that may be left out. A null value is not written.
        type: dict
        default: {}
      socket_sha256:
        description: The sha256 of the rendered socket unit (the task inbox).
        type: str
      inbox:
        description: The task inbox FIFO, to name it in RV(plan.drift).
        type: path
      nofile:
        description:
          - The open-files limit (C(LimitNOFILE)) to set, a number (or its digits), C(max) (the kernel's
            C(fs.nr_open)), or C(null) to leave the limits alone. An empty string is C(null) too, because
            ansible-core before 2.19 renders a templated C(null) as one.
        type: raw
      manage_nr_open:
        description: Whether a rollout may raise C(fs.nr_open) for O(desired.nofile); otherwise a higher request is refused.
        type: bool
        default: false
      manage_file_max:
        description: Whether a rollout keeps C(fs.file-max) at least as high as O(desired.nofile).
        type: bool
        default: false
      dropin_name:
        description: The name of the drop-in that sets C(LimitNOFILE).
        type: str
        default: 50-limits.conf
      login_user:
        description: The user whose login sessions get the limit too; empty for none.
        type: str
        default: ''
      login_file:
        description: The C(limits.d) file for O(desired.login_user).
        type: path
      enabled:
        description: Whether the service should start at boot.
        type: bool
        default: true
      unfinished_rollout:
        description:
          - What the rollout does with an unfinished earlier rollout (C(rollouts.unfinished) of the result); the plan only says it.
          - C(rollback) puts its snapshot back first, C(finish) converges from where it stopped.
        type: str
        choices: [rollback, finish]
        default: rollback
      repair:
        description:
          - An agent that has failed or restarts in a loop is a refusal of the plan; with C(true) only a warning, so a
            rollout may converge it anyway.
        type: bool
        default: false
  snapshot_dir:
    description:
      - The directory of the rollouts' snapshots (M(jada.agent.config_snapshot)); RV(rollouts) reports them, and the
        plan an unfinished rollout.
    type: path
  journal_lines:
    description:
      - How many of the latest journal lines of the service that match O(journal_pattern) to return.
      - C(0) skips reading the journal.
    type: int
    default: 0
  journal_pattern:
    description: Python regular expression that marks a journal line as an error.
    type: str
    default: (?i)(\b|[a-z])(error|fatal|panic|failed)\b|\btraceback\b|invalid settings
  refuse:
    description:
      - Fail the task, on the controller, when O(input_problems) is not empty (before the host is read) or when the
        plan refuses the change (RV(plan.refusals), after the read); RV(refused) says which.
      - The failure message names the host and every reason. A drift report leaves it off, so that it lists what it
        finds instead.
    type: bool
    default: false
  input_problems:
    description:
      - What is wrong with the request, one sentence each, as the controller found it; with O(refuse), a non-empty
        list fails the task without reading the host.
    type: list
    elements: str
    default: []
notes:
  - Journal lines are cut to 300 characters each.
  - C(<cli_path> --version) runs as the connection user (root with become), in check mode too.
seealso:
  - module: jada.agent.claude_settings
  - module: jada.agent.agent_service_restart_verify
"""

EXAMPLES = r"""
- name: Read the orchestrator's state
  jada.agent.agent_host_info:
    service: jada-agent
    settings_files:
      - ~jada/.claude/settings.json
      - /srv/jada/orchestrator/.claude/settings.json
    journal_lines: 5
  register: orchestrator

- name: Show the model the agent really uses
  ansible.builtin.debug:
    msg: "{{ orchestrator.effective_model.model }} (from {{ orchestrator.effective_model.source }})"

- name: Show the installed Claude Code CLI
  ansible.builtin.debug:
    msg: "{{ orchestrator.cli.version | default('unknown', true) }} ({{ orchestrator.cli.package | default('no npm package', true) }})"
"""

RETURN = r"""
refused:
  description:
    - Why the task failed under O(refuse). C(input) when O(input_problems) stopped it before the read (no other value
      is returned then); C(plan) when the plan refused the change.
  returned: when the task was refused
  type: str
  sample: plan
service:
  description: The service as systemd reports it.
  returned: always
  type: dict
  contains:
    name: {description: Service name., type: str, returned: always, sample: jada-agent}
    load_state: {description: C(loaded) or C(not-found)., type: str, returned: always, sample: loaded}
    active_state: {description: "C(active), C(inactive), C(failed)...", type: str, returned: always, sample: active}
    sub_state: {description: "C(running), C(dead)...", type: str, returned: always, sample: running}
    main_pid: {description: "PID of the agent, C(0) when not running.", type: int, returned: always, sample: 812}
    n_restarts: {description: Automatic restarts by systemd since the unit was loaded., type: int, returned: always, sample: 0}
    active_since: {description: When the service last became active., type: str, returned: always, sample: Sun 2026-11-22 08:32:30 UTC}
    active_since_monotonic:
      description: The same moment on the monotonic clock, in microseconds since boot (C(0) when unknown).
      type: int
      returned: always
      sample: 52791950
    enabled: {description: Whether the service starts at boot., type: bool, returned: always, sample: true}
    need_daemon_reload: {description: The unit files changed on disk since systemd loaded them., type: bool, returned: always, sample: false}
    exec_start:
      description: Argument vector of C(ExecStart=).
      type: list
      elements: str
      returned: always
      sample: [/opt/jada/bin/claude, --dangerously-skip-permissions]
    limit_nofile: {description: "C(LimitNOFILE) as configured (hard); what the process got is in RV(limits).", type: raw, returned: always, sample: 65536}
    main_start_monotonic:
      description: When systemd started the agent's process, in microseconds of the monotonic clock (C(0) when unknown).
      type: int
      returned: always
      sample: 52791950
    stale_inputs:
      description:
        - The files the agent reads at its start (settings files the CLI reads, environment files, the unit and its
          drop-ins, the CLI) that changed after the running process started, so it does not run them yet.
      type: list
      elements: str
      returned: always
      sample: [/srv/jada/orchestrator/.claude/settings.json]
    restart_loop:
      description: Whether systemd restarted the agent by itself during the read, or is about to (C(auto-restart)).
      type: bool
      returned: always
      sample: false
rollouts:
  description:
    - With O(snapshot_dir), the snapshots of the rollouts on the host; C(null) otherwise.
    - C(count), C(last) and C(unfinished) (the newest rollout whose snapshot is still C(started), C(null) when none),
      each with C(id), C(phase), C(since) and C(time) (epoch seconds).
  returned: always
  type: dict
  sample: {path: /var/lib/jada-agent/snapshot, count: 2, last: {id: 20261130T084641Z-1f2e, phase: started,
           since: 1796028401.5, time: 1796028401.5}, unfinished: {id: 20261130T084641Z-1f2e, phase: started,
           since: 1796028401.5, time: 1796028401.5}}
user:
  description: With O(desired), the service user (O(desired.user), else the unit's C(User=)).
  returned: when O(desired) is given
  type: dict
  sample: {name: jada, exists: true, home: /home/jada}
unit:
  description: The unit file.
  returned: always
  type: dict
  sample: {path: /etc/systemd/system/jada-agent.service, sha256: 0d5a...}
desired_unit:
  description:
    - With O(desired.unit_content), the sha256 of the unit to install on this host (the one the plan compares, that is the
      rendered unit without the hardening directives the host's systemd cannot start a unit with) and those
      directives. The unit's text is not returned.
  returned: when O(desired.unit_content) is given
  type: dict
  sample: {sha256: 7c1e..., left_out: [{directive: LockPersonality, value: "yes",
           failure: status=217, warning: "LockPersonality=yes is left out of jada-agent.service: ..."}]}
dropins:
  description: sha256 of each C(*.conf) in C(/etc/systemd/system/<service>.service.d/), by file name.
  returned: always
  type: dict
  sample: {50-limits.conf: 9f1c...}
file_digests:
  description: sha256 of each file of O(files), C(null) for a missing one.
  returned: always
  type: dict
environment_files:
  description: sha256 of each C(EnvironmentFile=) of the unit as systemd loaded it, C(null) for a missing one.
  returned: always
  type: dict
  sample: {/etc/jada/jada-agent.env: 4be2...}
limits:
  description: Effective limits of the running agent, from C(/proc/<MainPID>/limits); empty when not running.
  returned: always
  type: dict
  sample: {nofile_soft: 20000, nofile_hard: 20000}
kernel:
  description: The kernel's file limits.
  returned: always
  type: dict
  sample: {nr_open: 1048576, file_max: 9223372036854775807}
settings:
  description: One entry per O(settings_files).
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: The path as given., type: str, returned: always}
    real_path: {description: The file the path resolves to., type: str, returned: always}
    exists: {description: Whether the file exists., type: bool, returned: always}
    model: {description: "Its top-level C(model), C(null) when absent or unreadable.", type: str, returned: always}
    error:
      description: Why the file cannot be used (path, line, column; never content), or C(null).
      type: str
      returned: always
models:
  description: The model of each settings file, keyed by the path as given.
  returned: always
  type: dict
  sample: {"~jada/.claude/settings.json": claude-sonnet-4-6}
overrides:
  description:
    - Places that set a model and outrank every file of O(settings_files), highest precedence first.
    - C(kind) is C(flag) (C(--model) in C(ExecStart)), C(environment) (C(ANTHROPIC_MODEL) in the unit's environment
      or in a settings file's C(env) block, which beats every C(model) key) or C(file) (managed settings,
      C(--settings), C(settings.local.json)).
    - C(model) is the raw value as set there (an alias stays an alias); RV(effective_model) says what it requests.
  returned: always
  type: list
  elements: dict
  sample: [{kind: environment, source: ANTHROPIC_MODEL in the environment of jada-agent, model: claude-haiku-4-5}]
effective_model:
  description:
    - The model Claude Code requests at its next start, and where it comes from.
    - Aliases, legacy remaps, C(ANTHROPIC_DEFAULT_*_MODEL), C(availableModels) and the built-in default are applied
      with the facts recorded for the installed CLI version; for a version without facts RV(effective_model.model)
      is C(null) and a warning says so.
  returned: always
  type: dict
  contains:
    model:
      description: The exact model ID the CLI will request; C(null) when unknown or when the CLI will not start.
      type: str
      returned: always
      sample: claude-sonnet-5-5
    setting:
      description: The raw value that won (an alias, an ID), C(null) when nothing sets one.
      type: str
      returned: always
      sample: sonnet
    source:
      description: The flag, variable or file the setting comes from (C(Claude Code default) when none).
      type: str
      returned: always
      sample: /srv/jada/orchestrator/.claude/settings.json
    skipped:
      description: Settings files the CLI ignores, each with C(path) and C(reason) (line and column, never content).
      type: list
      elements: dict
      returned: always
    warnings:
      description:
        - Each with C(kind) and C(msg). Kinds are C(alias) (moves with CLI upgrades), C(legacy-remap), C(available-models),
          C(default) (the built-in default is in use), C(unknown-cli-version), C(fatal), C(unmodelled), C(invalid-entry),
          C(ignored) and C(unverified).
      type: list
      elements: dict
      returned: always
    fatal:
      description: Why the CLI would exit at start (an invalid managed settings file or C(--settings)), else C(null).
      type: str
      returned: always
  sample: {model: claude-sonnet-5-5, setting: sonnet, source: /srv/jada/orchestrator/.claude/settings.json,
           skipped: [], warnings: [{kind: alias, msg: "alias \"sonnet\" requests claude-sonnet-5-5 in Claude Code 2.1.328"}],
           fatal: null}
planned_model:
  description:
    - With O(desired), the engine's answer for the host as it will be once O(desired.model) is in every file of
      O(settings_files), O(desired.cli_version) runs and the unit has O(desired.exec_start) and
      O(desired.environment); the same keys as RV(effective_model), and C(from_settings_files), whether the winning
      source is one of O(settings_files). C(null) otherwise.
  returned: always
  type: dict
plan:
  description:
    - With O(desired), what differs and why; C(null) otherwise. The upgrade, the drift check and status read only
      this.
  returned: always
  type: dict
  contains:
    pending: {description: Whether anything differs; the one criterion for changing the host., type: bool, returned: always}
    model: {description: The desired model as given (O(desired.model))., type: str, returned: always}
    cli: {description: The CLI must be installed or switched., type: bool, returned: always}
    settings_files: {description: The paths of O(settings_files) whose model differs., type: list, elements: str, returned: always}
    socket: {description: The socket unit differs., type: bool, returned: always}
    unit: {description: The service unit differs., type: bool, returned: always}
    environment: {description: The environment file differs., type: bool, returned: always}
    limits:
      description: >-
        C(nofile) (the number to set, C(null) when unmanaged), C(dropin) and C(dropin_content), C(nr_open),
        C(file_max), C(login) and C(login_content).
      type: dict
      returned: always
    start: {description: The service must be started or enabled., type: bool, returned: always}
    restart: {description: Why a restart alone is needed (configured right but not in effect)., type: list, elements: str, returned: always}
    drift:
      description: What differs, each with C(check), C(expected) and C(actual); never a secret.
      type: list
      elements: dict
      returned: always
    refusals: {description: Why a change must not go ahead., type: list, elements: str, returned: always}
    warnings: {description: What is worth saying but not refusing (an alias that moves with CLI upgrades)., type: list, elements: str, returned: always}
    unfinished:
      description: The id of an unfinished earlier rollout, or C(null).
      type: str
      returned: always
    healthy:
      description: The agent ran well before any change (active, not restarting in a loop); a rescue restarts only such an agent.
      type: bool
      returned: always
cli:
  description: The Claude Code CLI at O(cli_path).
  returned: always
  type: dict
  contains:
    path: {description: The path as given., type: str, returned: always, sample: /opt/jada/bin/claude}
    exists: {description: Whether the path resolves to something (a dangling link does not)., type: bool, returned: always, sample: true}
    real_path:
      description: What the path resolves to, following every symbolic link.
      type: str
      returned: always
      sample: /opt/jada/lib/claude-code/2.1.328-linux-x64/claude
    version:
      description:
        - The CLI's version, from its package's C(package.json) or else from C(--version) (C(2.1.328 (Claude Code))).
        - C(null) when missing or unknown.
      type: str
      returned: always
      sample: 2.1.328
    package:
      description: The npm package the binary belongs to, C(null) for a binary of no package.
      type: str
      returned: always
      sample: "@anthropic-ai/claude-code-linux-x64"
    install_dir:
      description: The directory of that package (which holds its C(package.json)), C(null) for a binary of no package.
      type: str
      returned: always
      sample: /opt/jada/lib/claude-code/2.1.328-linux-x64
agent:
  description:
    - The agent's latest answer, from the tail of O(output) (see M(jada.agent.agent_task)); the proof of which
      model the running agent really uses, where the settings files only say what it should use.
    - C(null) when the agent has written nothing yet.
  returned: always
  type: dict
  contains:
    task_uuid: {description: The task the latest result answered., type: str, returned: always}
    is_error: {description: Whether that result was an error., type: bool, returned: always, sample: false}
    before_start:
      description:
        - Whether that answer came before the running agent's process started (C(null) when unknown); such an answer
          says nothing of the model the agent runs now.
      type: bool
      returned: when the service runs
      sample: false
    api_error_status:
      description: The API's HTTP status of the error, if any.
      type: int
      returned: always
      sample: 404
    api_error_type:
      description: The API's error type, if any.
      type: str
      returned: always
      sample: not_found_error
    models:
      description: The models whose usage that result counted (C(null) without any result line).
      type: list
      elements: str
      returned: always
      sample: [claude-sonnet-4-6]
    assistant_models:
      description: The models of the latest answer messages.
      type: list
      elements: str
      returned: always
      sample: [claude-sonnet-4-6]
    assistant_timestamp: {description: When the latest answer message was written (ISO 8601)., type: str, returned: always}
    init_model: {description: The model the CLI resolved when its latest session started., type: str, returned: always}
journal:
  description: The latest journal lines of the service that match O(journal_pattern), oldest first.
  returned: when O(journal_lines) > 0
  type: list
  elements: str
"""

import hashlib
import json
import os
import pwd
import re
import shlex
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.module_utils import agent_task
from ansible_collections.jada.agent.plugins.module_utils import atomic_file
from ansible_collections.jada.agent.plugins.module_utils import model_resolution
from ansible_collections.jada.agent.plugins.module_utils import orchestrator_plan
from ansible_collections.jada.agent.plugins.module_utils import snapshots
from ansible_collections.jada.agent.plugins.module_utils import unit_hardening

# Where the collection's roles install the unit file and its drop-in directory.
UNIT_DIR = '/etc/systemd/system'

# The real CLI answers --version in milliseconds; anything slower ignored the flag (a wrapper that started
# the agent, for example) and must not hold up a read-only module.
CLI_VERSION_TIMEOUT = 5


def service_summary(name, show):
    def number(key):
        value = show.get(key, '')
        return int(value) if value.isdigit() else 0

    return {
        'name': name,
        'load_state': show.get('LoadState', ''),
        'active_state': show.get('ActiveState', ''),
        'sub_state': show.get('SubState', ''),
        'main_pid': number('MainPID'),
        'n_restarts': number('NRestarts'),
        'active_since': show.get('ActiveEnterTimestamp', ''),
        'active_since_monotonic': number('ActiveEnterTimestampMonotonic'),
        'enabled': show.get('UnitFileState') in ('enabled', 'enabled-runtime', 'static', 'alias'),
        'need_daemon_reload': show.get('NeedDaemonReload') == 'yes',
        'exec_start': agent_host.exec_start_argv(show.get('ExecStart')),
        'limit_nofile': agent_host.systemd_limit(show.get('LimitNOFILE')),
        'main_start_monotonic': number('ExecMainStartTimestampMonotonic'),
        'stale_inputs': [],
        'restart_loop': False,
    }


def service_user(name):
    """Whether the agent's user exists, and its home."""
    if not name:
        return {'name': None, 'exists': True, 'home': '/root'}
    try:
        return {'name': name, 'exists': True, 'home': pwd.getpwnam(name).pw_dir}
    except KeyError:
        return {'name': name, 'exists': False, 'home': None}


def effective_model(resolution):
    """The engine's answer without its candidates: model, setting, source, skipped, warnings, fatal."""
    return dict((key, resolution[key]) for key in ('model', 'setting', 'source', 'skipped', 'warnings', 'fatal'))


def find_overrides(candidates, sources, settings):
    """The places that set a model and outrank every file of settings_files, highest precedence first.

    Flags and environment variables (the unit's or a settings file's env block) outrank every "model" key; a
    "model" key counts when its file ranks above the highest of settings_files (the project file when none of
    them is a file the CLI reads).
    """
    order = [source['path'] for source in sources]
    given = set(entry['real_path'] for entry in settings)
    ranks = [index for index, path in enumerate(order) if path in given]
    if ranks:
        top = max(ranks)
    else:
        top = max([index for index, source in enumerate(sources) if source['scope'] in ('user', 'project')] or [-1])
    overrides = []
    for candidate in candidates:
        if candidate['kind'] == 'file' and order.index(candidate['path']) <= top:
            continue
        overrides.append({'kind': candidate['kind'], 'source': candidate['source'], 'model': candidate['model']})
    return overrides


def cli_summary(module, path):
    cli = agent_host.cli_install(path)
    if cli['package'] is None and agent_host.is_executable_file(cli['real_path']):
        rc, out, dummy = agent_host.run_with_timeout(module, [cli['path'], '--version'], CLI_VERSION_TIMEOUT)
        if rc == 0:
            cli['version'] = agent_host.parse_version_output(out)
    return cli


def desired_sources(desired, show, service, managed_dir):
    """(argv, layers, sources) of the unit as the rollout will install it, or as it is without O(desired.exec_start)."""
    if not desired.get('exec_start'):
        return agent_host.model_sources(show, service, managed_dir)
    names = model_resolution.PLAN_VARIABLES
    # The role's unit sets no model variable in Environment=; its environment file is the one layer that may.
    layers = [('the environment of %s' % service, {})]
    if desired['environment']:
        layers.append(('%s (EnvironmentFile of %s)' % (desired['environment_file'], service),
                       model_resolution.model_environment(desired['environment'], names)))
    unit = {'User': desired['user'] or show.get('User'),
            'WorkingDirectory': desired['working_directory'] or show.get('WorkingDirectory')}
    return agent_host.model_sources(unit, service, managed_dir, argv=shlex.split(desired['exec_start']), layers=layers)


def planned_model(desired, show, service, managed_dir, settings, cli):
    """The engine's answer once the desired model is in every settings file, on the desired CLI and unit."""
    argv, layers, sources = desired_sources(desired, show, service, managed_dir)
    # The engine names files as the CLI finds them; the rollout writes through links to their real paths.
    real_paths = set(entry['real_path'] for entry in settings)
    managed = set(source['path'] for source in sources if os.path.realpath(source['path']) in real_paths)
    planned = model_resolution.with_model(sources, managed, desired['model'])
    version = desired['cli_version'] or cli['version']
    answer = effective_model(model_resolution.resolve(planned, argv, layers, version, service))
    # Whether the rollout's own edit decides the model, or something it does not write still wins.
    answer['from_settings_files'] = answer['source'] in managed
    return answer


def latest_answer(module, path):
    try:
        return agent_task.read_latest_answer(path)
    except agent_task.TaskError as exc:
        module.warn('%s' % exc)
        return None


def journal_errors(module, service, lines, pattern):
    rc, out, dummy = module.run_command(['journalctl', '--unit', service, '--output', 'short-iso',
                                         '--no-pager', '--lines', '500'])
    if rc != 0:
        return []
    matcher = re.compile(pattern)
    matching = [line[:300] for line in out.splitlines() if matcher.search(line)]
    return matching[-lines:]


def started_with(module, user, pairs):
    """None when a transient unit with these directives ran /bin/true as ``user``, else systemd's failure status."""
    argv = ['systemd-run', '--wait', '--collect', '--service-type=exec', '--property', 'User=' + user]
    for name, value in pairs:
        argv += ['--property', '%s=%s' % (name, value)]
    rc, out, err = module.run_command(argv + ['/bin/true'])
    if rc == 0:
        return None
    return unit_hardening.failure_status(out + err) or 'systemd-run exited %d: %s' % (rc, (err or out).strip()[:200])


def applicable_unit(module, name, desired):
    """The unit to install: desired.unit_content without the hardening this host's systemd cannot apply."""
    pairs = unit_hardening.directives(desired['hardening'])
    user = desired.get('user') or 'root'
    try:
        pwd.getpwnam(user)
    except KeyError:
        # Not created yet (a first install): any other unprivileged user meets the same limits.
        user = 'nobody'
    cache = os.path.join(unit_hardening.CACHE_DIR, unit_hardening.cache_name(user, pairs))
    failures = None
    if pairs and os.path.exists(cache):
        try:
            with open(cache) as handle:
                failures = json.load(handle)
        except (IOError, OSError, ValueError):
            failures = None
    if pairs and failures is None:
        combined = started_with(module, user, pairs)
        alone = dict((pair[0], started_with(module, user, [pair]) if combined else None) for pair in pairs)
        failures = dict((directive, alone[directive]) for directive in unit_hardening.left_out(combined is None, alone))
        if not module.check_mode:
            try:
                atomic_file.write_json_files(unit_hardening.CACHE_DIR, [os.path.basename(cache)], failures,
                                             mode=0o644)
            except OSError:
                # Only the next run's speed depends on it: that run asks systemd again.
                pass
    failures = failures or {}
    values = dict(pairs)
    content = unit_hardening.without(desired['unit_content'], sorted(failures))
    # The text itself stays out of the result (-v prints it); the role renders it again without ``left_out``.
    return {'sha256': hashlib.sha256(content.encode('utf-8')).hexdigest(),
            'left_out': [{'directive': directive, 'value': values.get(directive), 'failure': failures[directive],
                          'warning': unit_hardening.warning(name, user, directive, values.get(directive),
                                                            failures[directive])}
                         for directive in sorted(failures)]}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type='str', default='jada-agent'),
            settings_files=dict(type='list', elements='str', default=[]),
            managed_settings_dir=dict(type='path', default='/etc/claude-code'),
            files=dict(type='list', elements='path', default=[]),
            cli_path=dict(type='path', default='/opt/jada/bin/claude'),
            output=dict(type='path', default=agent_task.DEFAULT_OUTPUT),
            desired=dict(type='dict', options=dict(
                model=dict(type='str', required=True),
                allowed_models=dict(type='list', elements='str', default=[]),
                cli_version=dict(type='str'),
                cli_package=dict(type='str'),
                exec_start=dict(type='str'),
                environment=dict(type='dict', default={}),
                environment_file=dict(type='path'),
                environment_sha256=dict(type='str'),
                user=dict(type='str'),
                working_directory=dict(type='path'),
                unit_sha256=dict(type='str'),
                # no_log: the unit may carry jada_agent_extra_directives, which can hold anything.
                unit_content=dict(type='str', no_log=True),
                hardening=dict(type='dict', default={}),
                socket_sha256=dict(type='str'),
                inbox=dict(type='path'),
                nofile=dict(type='raw'),
                manage_nr_open=dict(type='bool', default=False),
                manage_file_max=dict(type='bool', default=False),
                dropin_name=dict(type='str', default='50-limits.conf'),
                login_user=dict(type='str', default=''),
                login_file=dict(type='path'),
                enabled=dict(type='bool', default=True),
                repair=dict(type='bool', default=False),
                unfinished_rollout=dict(type='str', choices=['rollback', 'finish'], default='rollback'),
            )),
            snapshot_dir=dict(type='path'),
            journal_lines=dict(type='int', default=0),
            journal_pattern=dict(type='str', default=agent_host.FAILURE_PATTERN),
            # Applied by the action plugin, on the controller; the module itself only reads.
            refuse=dict(type='bool', default=False),
            input_problems=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    name = module.params['service']
    try:
        re.compile(module.params['journal_pattern'])
    except re.error as exc:
        module.fail_json(msg='journal_pattern is not a valid regular expression: %s' % exc)

    read_started = time.monotonic()
    show = agent_host.systemctl_show(module, name + '.service')
    service = service_summary(name, show)
    limits = agent_host.process_limits(service['main_pid'])
    # Paths stay as given (the keys of models); agent_host expands ~ and ~user where it opens them.
    settings_paths = module.params['settings_files']
    settings = [agent_host.settings_model(path) for path in settings_paths]
    cli = cli_summary(module, module.params['cli_path'])
    argv, layers, sources = agent_host.model_sources(show, name, module.params['managed_settings_dir'])
    resolution = model_resolution.resolve(sources, argv, layers, cli['version'], name)
    unit_path = os.path.join(UNIT_DIR, name + '.service')
    desired = module.params['desired']
    files = list(module.params['files'])
    if desired is not None:
        # What the plan compares: the inbox's socket unit, the environment file and the login limits file.
        files += [path for path in (os.path.join(UNIT_DIR, name + '.socket'), desired['environment_file'],
                                    desired['login_file'] if desired['login_user'] else None)
                  if path and path not in files]

    result = dict(
        changed=False,
        service=service,
        unit={'path': unit_path, 'sha256': agent_host.file_sha256(unit_path)},
        dropins=agent_host.dropin_digests(unit_path + '.d'),
        file_digests=dict((path, agent_host.file_sha256(path)) for path in files),
        environment_files=dict((path, agent_host.file_sha256(path.lstrip('-')))
                               for path in agent_host.environment_files(show.get('EnvironmentFiles'))),
        limits={'nofile_soft': limits.get('nofile', (None, None))[0], 'nofile_hard': limits.get('nofile', (None, None))[1]},
        kernel={'nr_open': agent_host.read_int(agent_host.proc_path('sys', 'fs', 'nr_open')),
                'file_max': agent_host.read_int(agent_host.proc_path('sys', 'fs', 'file-max'))},
        settings=settings,
        models=dict((entry['path'], entry['model']) for entry in settings),
        overrides=find_overrides(resolution['candidates'], sources, settings),
        effective_model=effective_model(resolution),
        cli=cli,
        agent=latest_answer(module, module.params['output']),
        rollouts=snapshots.summary(module.params['snapshot_dir']) if module.params['snapshot_dir'] else None,
        planned_model=None,
        plan=None,
    )
    if desired is not None:
        result['user'] = service_user(desired.get('user') or show.get('User'))
    inputs = [source['path'] for source in sources if source.get('path')] + list(result['environment_files'])
    inputs += [unit_path] + [os.path.join(unit_path + '.d', name) for name in result['dropins']] + [cli['path']]
    if service['active_state'] == 'active' and service['main_start_monotonic']:
        service['stale_inputs'] = agent_host.changed_after(inputs, service['main_start_monotonic'],
                                                           agent_host.wall_clock_of_monotonic_zero())
    agent = result['agent']
    if agent is not None and service['main_start_monotonic']:
        # An answer from before the agent's start says nothing of the model it runs now.
        agent['before_start'] = agent_host.answered_before(
            agent.get('assistant_timestamp'),
            agent_host.wall_clock_of_monotonic_zero() + service['main_start_monotonic'] / 1e6)
    # Last, so the two samples are as far apart as the read allows; an agent that restarted by itself before gets a
    # window long enough for a crash loop to show (only such hosts wait).
    if service['n_restarts'] or service['sub_state'] == 'auto-restart':
        time.sleep(max(0.0, read_started + agent_host.LOOP_WINDOW - time.monotonic()))
    service['restart_loop'] = agent_host.restart_loop(
        show, agent_host.systemctl_show(module, name + '.service', agent_host.LOOP_PROPERTIES))
    if desired is not None and desired.get('unit_content') is not None:
        result['desired_unit'] = applicable_unit(module, name, desired)
        desired['unit_sha256'] = result['desired_unit']['sha256']
    if desired is not None:
        result['planned_model'] = planned_model(desired, show, name, module.params['managed_settings_dir'], settings, cli)
        result['plan'] = orchestrator_plan.plan(result, desired, result['planned_model'])
        result['plan']['warnings'] += [item['warning'] for item in result.get('desired_unit', {}).get('left_out', [])]
        for warning in result['plan']['warnings']:
            module.warn(warning)
    if module.params['journal_lines'] > 0:
        result['journal'] = journal_errors(module, name, module.params['journal_lines'], module.params['journal_pattern'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
