# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an orchestrator needs to reach the desired state, and why: the one plan the rollout, the drift check and
status read.

Pure functions over agent_host_info's state (a dict, as the module returns it) and the desired state (its
``desired`` option). Nothing here reads the host, so every decision is a table-driven unit test.

plan(state, desired, planned_model) returns:
  pending        whether anything differs: the one criterion for "should this host change"
  model          the desired model, as given
  cli            the CLI must be installed or switched
  settings_files the paths of settings_files whose model differs
  socket, unit, environment
                 that unit file (or the environment file) differs from the rendered one
  limits         {nofile (the number the drop-in sets, None when unmanaged), dropin, dropin_content, nr_open,
                 file_max, login, login_content}
  start          the service is not active, or not enabled as wanted
  restart        [why]: a restart alone applies something already configured (limits, model)
  drift          [{check, expected, actual}]: what differs, as the drift report lists it (never a secret)
  refusals       [why]: what a change must not go ahead with (host named by the caller)
  warnings       [why]: worth saying, not worth refusing
  unfinished     the id of an earlier rollout that did not finish (its snapshot still "started"), or None
  healthy        the agent ran well before any change: active, not restarting in a loop (a rescue restarts only
                 such an agent)
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.jada.agent.plugins.module_utils.agent_host import NR_OPEN_CEILING

# The engine's warnings after which its answer cannot be relied on for a rollout.
UNRELIABLE_WARNINGS = ('available-models', 'fatal', 'unmodelled')

UNIT_DIR = '/etc/systemd/system'

DROPIN_TEMPLATE = (
    '# Managed by Ansible (jada.agent.orchestrator); local changes are overwritten.\n'
    '# Check the effect in /proc/<MainPID>/limits: systemd silently clamps a limit it cannot apply.\n'
    '[Service]\n'
    'LimitNOFILE={nofile}\n'
)

LOGIN_TEMPLATE = (
    "# Managed by Ansible (jada.agent.orchestrator): the open-files limit of {user}'s login sessions.\n"
    '{user} soft nofile {nofile}\n'
    '{user} hard nofile {nofile}\n'
)


def requested_nofile(nofile):
    """The open-files request as given, None when the limits are unmanaged.

    Where the request enters Python, once: ansible-core before 2.19 renders every template to text, so a templated
    null (jada_agent_nofile: "{{ per_host_nofile | default(none) }}") arrives as '' and a templated number as its
    digits; 2.19 passes None and the int. '' (or blanks) is null, as for the role's other optional inputs.
    """
    if nofile is None or (isinstance(nofile, str) and not nofile.strip()):
        return None
    return nofile


def nofile_problem(nofile):
    """Why a requested open-files limit can never be granted, or None. ``max`` means fs.nr_open; None unmanaged."""
    nofile = requested_nofile(nofile)
    if nofile is None or nofile == 'max':
        return None
    text = str(nofile)
    if not text.isdigit() or not 1 <= int(text) <= NR_OPEN_CEILING:
        return ('jada_agent_nofile is %s, which Linux can never grant: RLIMIT_NOFILE is capped by fs.nr_open, and '
                'fs.nr_open itself can be at most %d (2147483646, for example, makes `ulimit -n` fail and systemd '
                "clamp LimitNOFILE silently). Use a number from 1 to %d, or 'max' for the highest value this host's "
                'kernel allows, or null to leave the limits alone.' % (nofile, NR_OPEN_CEILING, NR_OPEN_CEILING))
    return None


def effective_nofile(nofile, nr_open):
    """The number the drop-in sets: ``max`` is the kernel's fs.nr_open; None when the limits are unmanaged."""
    nofile = requested_nofile(nofile)
    if nofile is None:
        return None
    if nofile == 'max':
        return nr_open
    return int(nofile)


def dropin_content(nofile):
    return DROPIN_TEMPLATE.format(nofile=nofile)


def login_limits_content(user, nofile):
    return LOGIN_TEMPLATE.format(user=user, nofile=nofile)


def _sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def settings_plan(state, model):
    """(paths to write, drift items) for the model in every settings file."""
    paths, drift = [], []
    for entry in state['settings']:
        if entry.get('error'):
            paths.append(entry['path'])
            drift.append({'check': 'model in ' + entry['path'], 'expected': model, 'actual': 'unreadable: ' + entry['error']})
        elif entry.get('model') != model:
            paths.append(entry['path'])
            drift.append({'check': 'model in ' + entry['path'], 'expected': model, 'actual': entry.get('model') or 'no model key'})
    return paths, drift


def engine_findings(state, desired, planned_model):
    """(drift items, refusals, warnings) from the model-resolution engine's answers, now and after the change."""
    model = desired['model']
    drift, refusals, warnings = [], [], []
    effective = state.get('effective_model') or {}
    skipped = effective.get('skipped') or []
    for entry in skipped:
        drift.append({'check': 'settings file %s (critical: the CLI skips it)' % entry['path'],
                      'expected': 'strict JSON with an object at the top', 'actual': entry['reason']})
    cli_version = (state.get('cli') or {}).get('version') or '(version unknown)'
    if effective.get('fatal'):
        refusals.append('Claude Code %s would not start: %s. Fix or remove the file (it must be strict JSON with an '
                        'object at the top).' % (cli_version, effective['fatal']))
    elif skipped:
        refusals.append('Claude Code %s would skip %s and request %s instead. Fix or remove the file (it must be '
                        'strict JSON with an object at the top).'
                        % (cli_version, '; '.join('%s: %s' % (entry['path'], entry['reason']) for entry in skipped),
                           effective.get('model') or 'an unknown model'))
    for override in state.get('overrides') or []:
        if override['model'] != model:
            drift.append({'check': 'model override: ' + override['source'], 'expected': 'none, or ' + model,
                          'actual': override['model']})

    allowed = desired.get('allowed_models') or []
    if allowed and model not in allowed:
        refusals.append('model %s is not in jada_agent_allowed_models %s.' % (model, ', '.join(allowed)))
    if planned_model is not None:
        unreliable = [warning['msg'] for warning in planned_model['warnings'] if warning['kind'] in UNRELIABLE_WARNINGS]
        resolved = planned_model['model']
        if not planned_model['from_settings_files'] or resolved is None or unreliable:
            refusals.append(
                'after writing %s into the settings files, Claude Code %s would request %s from %s (setting %s).%s '
                'Remove or change what wins, or roll out that model.'
                % (model, desired.get('cli_version') or cli_version, resolved or 'no known model',
                   planned_model['source'] or 'no setting', json.dumps(planned_model['setting']),
                   ''.join(' %s.' % msg for msg in unreliable)))
        elif allowed and model in allowed and resolved not in allowed:
            refusals.append('jada_agent_allowed_models does not list %s, the ID %s resolves to.' % (resolved, model))
        warnings.extend(warning['msg'] for warning in planned_model['warnings'] if warning['kind'] == 'alias')
    return drift, refusals, warnings


def limits_plan(state, desired):
    """The limits part of the plan, its drift items and refusals."""
    nofile = desired.get('nofile')
    result = {'nofile': None, 'dropin': False, 'dropin_content': None, 'nr_open': False, 'file_max': False,
              'login': False, 'login_content': None}
    problem = nofile_problem(nofile)
    if problem:
        return result, [], [problem], []
    kernel = state['kernel']
    number = effective_nofile(nofile, kernel.get('nr_open'))
    if number is None:
        return result, [], [], []
    drift, refusals, restart = [], [], []
    result['nofile'] = number
    result['dropin_content'] = dropin_content(number)
    name = desired.get('dropin_name') or '50-limits.conf'
    result['dropin'] = _sha256(result['dropin_content']) != state['dropins'].get(name)
    if result['dropin']:
        drift.append({'check': 'LimitNOFILE drop-in ' + name, 'expected': 'LimitNOFILE=%d' % number,
                      'actual': 'differs' if name in state['dropins'] else 'missing'})
    result['nr_open'] = kernel.get('nr_open') is not None and number > kernel['nr_open']
    if result['nr_open']:
        drift.append({'check': 'fs.nr_open', 'expected': '>= %d' % number, 'actual': kernel['nr_open']})
        if not desired.get('manage_nr_open'):
            refusals.append('jada_agent_nofile %d is above this host\'s fs.nr_open (%d), the most any process may have; '
                            'systemd would silently clamp LimitNOFILE. Set jada_agent_manage_nr_open to true to raise '
                            "fs.nr_open persistently, or ask for at most fs.nr_open (or 'max')." % (number, kernel['nr_open']))
    result['file_max'] = bool(desired.get('manage_file_max')) and kernel.get('file_max') is not None and number > kernel['file_max']
    user = desired.get('login_user') or ''
    if user:
        result['login_content'] = login_limits_content(user, number)
        login_file = desired['login_file']
        current = state['file_digests'].get(login_file)
        result['login'] = _sha256(result['login_content']) != current
        if result['login']:
            drift.append({'check': 'login limits ' + login_file, 'expected': '%s nofile %d' % (user, number),
                          'actual': 'differs' if current else 'missing'})
    service = state['service']
    limits = state['limits']
    if service['active_state'] == 'active' and limits.get('nofile_soft') != number:
        drift.append({'check': 'effective LimitNOFILE (/proc/%s/limits)' % service['main_pid'], 'expected': number,
                      'actual': '%s soft / %s hard' % (limits.get('nofile_soft'), limits.get('nofile_hard'))})
        if not result['dropin']:
            # Configured right but not what the process got: only a restart applies it (and verifies it).
            restart.append('LimitNOFILE %d is configured but the agent runs with %s' % (number, limits.get('nofile_soft')))
    return result, drift, refusals, restart


def answer_drift(state, planned_model):
    """A drift item when the running agent's latest answer came from another model than the CLI should request.

    Subagents may answer on other models, and an API error says nothing of the model: only a success without that
    ID counts, and only one given by the running process (an answer from before its start is not).
    """
    agent = state.get('agent')
    model = (planned_model or {}).get('model')
    if agent is None or agent.get('is_error') is not False or not model or model in (agent.get('models') or []):
        return None
    if agent.get('before_start'):
        # The process that answered is gone: the running one has not answered yet.
        return None
    return {'check': "the model of the agent's latest answer", 'expected': model,
            'actual': ', '.join(agent.get('models') or []) or 'none'}


def host_findings(state, desired):
    """(refusals, warnings) about the host as found: what makes any change unsafe before it starts."""
    refusals, warnings = [], []
    user = state.get('user') or {}
    if user.get('name') and not user.get('exists'):
        refusals.append('the service user %s does not exist on this host, so ~%s cannot be found: create the user, or '
                        'set jada_agent_user to the user the agent runs as.' % (user['name'], user['name']))
    for entry in state.get('settings') or []:
        if entry.get('error'):
            refusals.append('settings file %s cannot be used: %s. Fix it by hand: it must be a file of strict JSON with '
                            'an object at the top.' % (entry['path'], entry['error']))
    problem = service_problem(state['service'])
    if problem:
        fix = ('Bring it back to health first (systemctl status %s, journalctl -u %s), or set jada_agent_repair: true '
               'to converge it anyway; a failed repair then only puts its files back and does not restart it.'
               % (state['service']['name'], state['service']['name']))
        if desired.get('repair'):
            warnings.append('%s; converging it anyway (jada_agent_repair).' % problem)
        else:
            refusals.append('%s. %s' % (problem, fix))
    return refusals, warnings


def service_problem(service):
    """Why the agent is not healthy before any change, or None (an agent not yet installed or stopped is no problem)."""
    name = service['name']
    if service['load_state'] == 'not-found':
        return None
    if service['active_state'] == 'failed':
        return 'the agent %s has failed (%s/%s) before any change' % (name, service['active_state'], service['sub_state'])
    if service.get('restart_loop'):
        return ('the agent %s is restarting in a loop (%s/%s, NRestarts %s) before any change'
                % (name, service['active_state'], service['sub_state'], service.get('n_restarts')))
    return None


def plan(state, desired, planned_model):
    """The whole plan; see the module docstring. ``planned_model`` is the engine's answer after the change."""
    service_name = state['service']['name']
    result = {'model': desired['model'], 'cli': False, 'settings_files': [], 'socket': False, 'unit': False, 'environment': False,
              'start': False, 'restart': [], 'drift': [], 'refusals': [], 'warnings': []}
    drift = result['drift']
    service = state['service']
    result['healthy'] = service['active_state'] == 'active' and not service.get('restart_loop')
    refusals, warnings = host_findings(state, desired)
    result['refusals'].extend(refusals)
    result['warnings'].extend(warnings)
    unfinished = ((state.get('rollouts') or {}).get('unfinished') or {})
    result['unfinished'] = unfinished.get('id')
    if result['unfinished']:
        drift.append({'check': 'rollout %s' % unfinished['id'], 'expected': 'finished',
                      'actual': 'unfinished: its snapshot is still "%s"' % unfinished['phase']})
        result['warnings'].append(
            'rollout %s did not finish on this host; %s' % (unfinished['id'], (
                'this run converges from where it stopped (jada_agent_unfinished_rollout: finish), and keeps its '
                'snapshot' if desired.get('unfinished_rollout') == 'finish' else
                'this run first puts back its snapshot, the files from before it, then rolls out')))

    paths, items = settings_plan(state, desired['model'])
    result['settings_files'] = paths
    drift.extend(items)
    items, refusals, warnings = engine_findings(state, desired, planned_model)
    drift.extend(items)
    result['refusals'].extend(refusals)
    result['warnings'].extend(warnings)

    cli = state.get('cli') or {}
    if desired.get('cli_version') and (cli.get('version') != desired['cli_version'] or cli.get('package') != desired.get('cli_package')):
        result['cli'] = True
        drift.append({'check': 'Claude Code CLI ' + (cli.get('path') or ''), 'expected': desired['cli_version'],
                      'actual': cli.get('version') or 'missing'})

    stale = service.get('stale_inputs') or []
    if service['active_state'] == 'active' and stale:
        drift.append({'check': 'agent process of %s' % service_name,
                      'expected': 'started after its configuration last changed',
                      'actual': 'started before %s changed' % ', '.join(stale)})
        result['restart'].append('the agent started before %s changed' % ', '.join(stale))

    item = answer_drift(state, planned_model)
    if item:
        drift.append(item)
        result['restart'].append("the agent's latest answer came from %s" % item['actual'])

    socket_path = '%s/%s.socket' % (UNIT_DIR, service_name)
    if desired.get('socket_sha256'):
        current = state['file_digests'].get(socket_path)
        result['socket'] = desired['socket_sha256'] != current
        if result['socket']:
            drift.append({'check': 'task inbox %s (%s.socket)' % (desired.get('inbox') or socket_path, service_name),
                          'expected': 'the managed unit', 'actual': 'differs' if current else 'missing'})
    if desired.get('unit_sha256'):
        current = state['unit']['sha256']
        result['unit'] = desired['unit_sha256'] != current
        if result['unit']:
            drift.append({'check': 'unit ' + state['unit']['path'], 'expected': 'sha256 ' + desired['unit_sha256'][:12],
                          'actual': ('sha256 ' + current[:12]) if current else 'missing'})
    if desired.get('environment_sha256'):
        path = desired['environment_file']
        result['environment'] = desired['environment_sha256'] != state['file_digests'].get(path)
        if result['environment']:
            drift.append({'check': 'environment file ' + path, 'expected': 'the managed content',
                          'actual': 'differs (not shown: it holds secrets)'})

    limits, items, refusals, restart = limits_plan(state, desired)
    result['limits'] = limits
    drift.extend(items)
    result['refusals'].extend(refusals)
    result['restart'].extend(restart)

    enabled = desired.get('enabled', True)
    if service['active_state'] != 'active':
        result['start'] = True
        drift.append({'check': 'service ' + service_name, 'expected': 'active',
                      'actual': '%s/%s' % (service['active_state'], service['sub_state'])})
    if service['enabled'] != enabled:
        result['start'] = True
        drift.append({'check': 'service %s enabled at boot' % service_name, 'expected': enabled, 'actual': service['enabled']})
    result['pending'] = bool(drift)
    return result


def refusal(host, input_problems, read):
    """Why a read that refuses must fail, as (kind, message), or (None, None).

    ``input`` when the input is bad: the read was not made, so nothing was read or changed. ``plan`` when the read's
    plan (``read['plan']``) refuses the change. A read that did not come back (failed, unreachable) is no refusal:
    it reports itself.
    """
    if input_problems:
        return 'input', '%s: %s Nothing was read or changed.' % (host, ' '.join(input_problems))
    refusals = ((read or {}).get('plan') or {}).get('refusals') or []
    if refusals and not read.get('failed') and not read.get('unreachable'):
        return 'plan', '%s: %s Nothing was changed on any host.' % (host, ' '.join(refusals))
    return None, None
