#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
---
module: claude_settings
short_description: Set the default model in a Claude Code C(settings.json) without disturbing the rest of the file
version_added: 0.1.0
description:
  - Sets or removes the top-level C("model") key of a Claude Code settings file such as C(~/.claude/settings.json)
    or a repository's C(.claude/settings.json).
  - The edit is minimal. When the key exists only the bytes of its value change; key order, indentation, escapes,
    unicode, blank lines and the presence or absence of a trailing newline are kept byte for byte. A missing key is
    appended as the last top-level member in the file's own indentation style (two or four spaces, tabs, or one line).
  - Nested keys that merely look alike, such as C(env.ANTHROPIC_MODEL), C(advisorModel) or a C(modelSettings) object,
    are never touched.
  - The file must be strict JSON, as Claude Code requires. Comments, trailing commas, C(NaN), a byte order mark,
    invalid UTF-8, a non-object top level, a non-string C("model") or a duplicated top-level C("model") key make the
    module fail with the path, line and column of the problem; the file is left byte-identical.
  - Writes are atomic (temporary file in the target's real directory, C(fsync), rename) and keep the mode and owner
    of the existing file. Just before the rename the module checks that nobody (for example the Claude Code CLI
    running C(/model)) changed the file since it was read; if it changed, the module re-reads it and applies the
    edit on top of the new content, up to five times, and then fails without writing.
  - Settings files hold secrets such as C(env.ANTHROPIC_API_KEY). The module never returns, logs or diffs file
    content; the diff shows only the model value before and after.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  # A fragment variable only resolves in the short form.
  - action_common_attributes.files
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows only the C("model") value before and after, never the file content, plus changed file attributes.
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
options:
  path:
    description:
      - Path to the settings file, for example C(~/.claude/settings.json) or C(/srv/repo/.claude/settings.json).
      - C(~) expands to the home directory of the remote user the module runs as.
      - Symbolic links are followed; the link stays a link and its target is updated. A dangling link is an error.
    type: path
    required: true
  model:
    description:
      - The model to set, for example an alias (V(sonnet), V(opus), V(opusplan), V(sonnet[1m])), a model ID
        (V(claude-sonnet-4-6)), a Bedrock ID (V(us.anthropic.claude-haiku-4-5-20251001-v1:0)) or a Vertex ID
        (V(claude-haiku-4-5@20251001)).
      - Must be non-empty, at most 256 characters, and hold no whitespace, control or invisible formatting characters.
      - Required when O(state=present); ignored when O(state=absent).
    type: str
  state:
    description:
      - V(present) makes the top-level C("model") key hold O(model).
      - V(absent) removes the top-level C("model") key, so lower-precedence settings decide the model again.
    type: str
    choices: [present, absent]
    default: present
  create:
    description:
      - 'When the file is missing and O(state=present), create it as C({"model": ...}) with a trailing newline.
        The new file gets mode C(0600) unless O(mode) is given; missing parent directories are created with mode C(0700).'
      - When V(false), a missing file is an error with O(state=present) and nothing to do with O(state=absent).
    type: bool
    default: true
  backup:
    description:
      - Create a backup file including the timestamp information so you can get the original file back.
      - A backup is only made when the file is actually rewritten. It holds the same secrets as the original and
        keeps its mode.
    type: bool
    default: false
  mode:
    description:
      - The permissions the settings file should have, for example V('0600'). Quote octal modes so that Ansible
        receives a string; symbolic modes such as V(u=rw,g=,o=) work too.
      - When not given, an existing file keeps its mode and a newly created file gets C(0600), because settings
        files can hold API keys.
    type: raw
  allowed_models:
    description:
      - When given, O(model) must be one of these values; otherwise the module fails before reading or touching anything.
      - An empty list allows no model at all. Ignored when O(state=absent).
    type: list
    elements: str
notes:
  - Claude Code picks its model from, highest precedence first, C(--model), C(ANTHROPIC_MODEL) (the process environment
    or the C(env) block of any settings file), then the C(model) key of managed settings
    (C(/etc/claude-code/managed-settings.d/*.json) over C(/etc/claude-code/managed-settings.json)), C(--settings),
    C(.claude/settings.local.json), C(.claude/settings.json) and C(~/.claude/settings.json). The module reports in
    RV(overridden_by), and warns about, the files on the same host that would win over the file it manages, as the
    collection's model resolution engine ranks them; M(jada.agent.agent_host_info) also weighs the service's flags
    and environment.
  - A file starting with a UTF-8 byte order mark is rejected rather than silently kept or stripped, because Claude Code's
    C(JSON.parse) rejects it too; remove the BOM by hand.
  - O(mode), O(owner), O(group) and the SELinux options apply to the target of a symbolic link, not to the link.
  - A temporary file is only ever a dot-file named C(.<name>.<random>.claude_settings.tmp) beside the target. If the
    module is killed with C(SIGKILL) while writing, such a file may remain, and the target itself is untouched;
    the next run removes leftovers older than five minutes. On C(SIGTERM) and C(SIGHUP) the module removes it before
    exiting.
seealso:
  - name: Claude Code settings
    description: Settings files, their precedence and the C(model) key.
    link: https://docs.anthropic.com/en/docs/claude-code/settings
  - name: Claude Code model configuration
    description: Model aliases and names accepted in C(model).
    link: https://docs.anthropic.com/en/docs/claude-code/model-config
"""

EXAMPLES = r"""
- name: Use Claude Sonnet 4.6 by default for the deploy user
  jada.agent.claude_settings:
    path: ~/.claude/settings.json
    model: claude-sonnet-4-6
  become: true
  become_user: deploy

- name: Pin the model of a repository, refusing anything not approved
  jada.agent.claude_settings:
    path: /srv/agent/.claude/settings.json
    model: "{{ agent_model }}"
    allowed_models:
      - claude-sonnet-4-6
      - claude-haiku-4-5-20251001
    backup: true

- name: Use a Bedrock inference profile, keeping the file private
  jada.agent.claude_settings:
    path: ~/.claude/settings.json
    model: us.anthropic.claude-haiku-4-5-20251001-v1:0
    mode: "0600"

- name: Only change existing files, never create one
  jada.agent.claude_settings:
    path: /home/ci/.claude/settings.json
    model: claude-haiku-4-5@20251001
    create: false

- name: Let lower-precedence settings decide the model again
  jada.agent.claude_settings:
    path: /srv/agent/.claude/settings.json
    state: absent

- name: Set the model and fail if another settings file would override it
  jada.agent.claude_settings:
    path: ~/.claude/settings.json
    model: opusplan
  register: claude_model
  failed_when: claude_model.overridden_by | length > 0
"""

RETURN = r"""
path:
  description: The real path of the settings file, after following symbolic links.
  returned: always
  type: str
  sample: /home/deploy/dotfiles/claude/settings.json
model:
  description: The model the file now sets, V(null) after O(state=absent).
  returned: always
  type: str
  sample: claude-sonnet-4-6
previous_model:
  description: The top-level C("model") value before the module ran, V(null) when the key or the file was absent.
  returned: always
  type: str
  sample: claude-haiku-4-5-20251001
created:
  description: Whether the file was created (or would be, in check mode).
  returned: always
  type: bool
  sample: false
backup_file:
  description: Name of the backup file that was created.
  returned: when O(backup=true) and the file was rewritten
  type: str
  sample: /home/deploy/.claude/settings.json.12345.2025-01-31@12:00:00~
overridden_by:
  description:
    - Higher-precedence settings files on the same host that set a model and would win over this file; each one is
      also raised as a warning.
    - Checked are C(settings.local.json) beside a file named C(settings.json), C(managed-settings.json) and
      C(managed-settings.d/*.json) under the managed settings directory (C(/etc/claude-code) on Linux), and the
      C(env) blocks of those files and of the file itself (C(env.ANTHROPIC_MODEL) beats every C(model) key).
    - Highest precedence first. Files Claude Code would skip (not strict JSON, a wrong type) are reported as warnings.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The overriding settings file.
      type: str
      returned: always
      sample: /etc/claude-code/managed-settings.json
    model:
      description: The model that file sets, as written there (an alias stays an alias).
      type: str
      returned: always
      sample: claude-opus-4-6
    key:
      description: Where in that file, C(model) or C(env.ANTHROPIC_MODEL).
      type: str
      returned: always
      sample: model
  sample:
    - path: /srv/agent/.claude/settings.local.json
      model: sonnet
      key: model
"""

import glob
import json
import os
import re
import signal
import sys
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.module_utils import model_resolution
from ansible_collections.jada.agent.plugins.module_utils.atomic_file import TemporaryFileError, replace_file
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import (
    SettingsError,
    decode,
    update_model,
    validate_model,
)


MANAGED_SETTINGS_DIR = '/Library/Application Support/ClaudeCode' if sys.platform == 'darwin' else '/etc/claude-code'
MAX_ATTEMPTS = 5
TEMP_SUFFIX = '.claude_settings.tmp'
# Only a SIGKILLed run leaves a temporary file; a live run holds one for milliseconds.
STALE_TEMP_SECONDS = 300
NEW_FILE_MODE = 0o600
NEW_DIR_MODE = 0o700
UNCHANGED = 'it was left unchanged'


class ModuleFailure(Exception):
    def __init__(self, msg, **extra):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class _Terminated(BaseException):
    """Raised from the SIGTERM/SIGHUP handler so that ``finally`` blocks remove the temporary file."""


class _ChangedUnderUs(Exception):
    pass


def _before_rename(path):
    """Runs between writing the temporary file and the final change check (a seam for tests)."""


def _reason(exc):
    return exc.strerror or str(exc)


def find_dangling_link(path):
    """Return the first component of ``path`` that is a symbolic link to nothing, or None."""
    current = os.path.abspath(path)
    while True:
        if os.path.islink(current) and not os.path.exists(current):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def resolve(path):
    """Return the real path to operate on, failing for links to nothing, directories and special files."""
    dangling = find_dangling_link(path)
    if dangling is not None:
        try:
            target = os.readlink(dangling)
        except OSError:
            target = '?'
        prefix = '' if dangling == os.path.abspath(path) else '%s: ' % path
        raise ModuleFailure('%s%s is a symbolic link to a missing target (%s) or a link loop; fix or remove the link - '
                            'nothing was changed' % (prefix, dangling, target), path=path)
    real = os.path.realpath(path)
    try:
        os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise ModuleFailure('%s: cannot access the file: %s - nothing was changed' % (real, _reason(exc)), path=real)
    if os.path.isdir(real):
        raise ModuleFailure('%s is a directory, not a settings file - nothing was changed' % real, path=real)
    if not os.path.isfile(real):
        raise ModuleFailure('%s is not a regular file - nothing was changed' % real, path=real)
    return real


def read_bytes(real):
    """Return the file content, or None when it does not exist."""
    try:
        with open(real, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModuleFailure('%s: cannot read the file: %s - %s' % (real, _reason(exc), UNCHANGED), path=real)


def plan(real, original, model, create=True):
    """Return ``(previous_model, new_bytes)``; ``new_bytes`` is None when nothing needs to change."""
    if original is None:
        if model is None:
            return None, None
        if not create:
            raise ModuleFailure('%s does not exist and create=false - nothing was changed' % real, path=real)
        original_text = '{}\n'
    else:
        try:
            original_text = decode(original)
        except SettingsError as exc:
            raise _invalid(real, exc)
    try:
        previous, new_text = update_model(original_text, model)
    except SettingsError as exc:
        raise _invalid(real, exc)
    if original is not None and new_text is original_text:
        return previous, None
    return previous, new_text.encode('utf-8')


def _invalid(real, exc):
    return ModuleFailure('%s; fix the file by hand - %s' % (exc.describe(real), UNCHANGED),
                         path=real, line=exc.line, column=exc.column)


def make_directories(directory):
    """Create ``directory`` and its missing parents, each with mode 0700."""
    missing = []
    current = directory
    while not os.path.isdir(current):
        if os.path.lexists(current):
            raise ModuleFailure('%s exists but is not a directory - nothing was changed' % current, path=directory)
        missing.append(current)
        current = os.path.dirname(current)
    for name in reversed(missing):
        try:
            os.mkdir(name, NEW_DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ModuleFailure('cannot create the directory %s: %s - nothing was changed' % (name, _reason(exc)),
                                path=directory)
        # mkdir honours the umask; the directory may end up holding secrets.
        os.chmod(name, NEW_DIR_MODE)


def remove_stale_temp_files(real, now=None):
    """Remove temporary files of this module for ``real`` that a killed run left behind."""
    directory, name = os.path.split(real)
    pattern = re.compile(re.escape('.' + name + '.') + r'[A-Za-z0-9_]+' + re.escape(TEMP_SUFFIX) + r'\Z')
    limit = (time.time() if now is None else now) - STALE_TEMP_SECONDS
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and info.st_uid == os.geteuid() and info.st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            pass


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


class _CleanExitOnSignal(object):
    """Turn SIGTERM/SIGHUP into an exception while the temporary file exists."""

    signals = (signal.SIGTERM, signal.SIGHUP)

    def __enter__(self):
        self.previous = {}
        try:
            for signum in self.signals:
                self.previous[signum] = signal.signal(signum, _raise_terminated)
        except ValueError:
            # Not the main thread: signals cannot be handled here, the rename still keeps the target whole.
            pass
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def replace(module, real, original, content, backup=False):
    """Atomically replace ``real`` with ``content`` unless it no longer holds ``original``.

    Returns the backup file name (or None); raises _ChangedUnderUs when another writer got there first.
    """
    directory = os.path.dirname(real)
    remove_stale_temp_files(real)
    backup_file = []

    def unchanged_since_read(temporary):
        _before_rename(real)
        if backup and original is not None:
            backup_file.append(module.backup_local(real))
        if read_bytes(real) != original:
            raise _ChangedUnderUs()

    def move(temporary, target):
        # atomic_move gives the new file the mode, owner and SELinux context of the one it replaces.
        module.atomic_move(temporary, target, unsafe_writes=module.params['unsafe_writes'])

    try:
        with _CleanExitOnSignal():
            replace_file(real, content, prepare=unchanged_since_read, move=move, suffix=TEMP_SUFFIX)
    except TemporaryFileError as exc:
        raise ModuleFailure('cannot write a temporary file in %s: %s - %s' % (directory, _reason(exc), UNCHANGED),
                            path=real)
    except (ModuleFailure, _Terminated):
        raise
    except _ChangedUnderUs:
        for name in backup_file:
            _unlink_quietly(name)
        raise
    except Exception as exc:
        for name in backup_file:
            _unlink_quietly(name)
        raise ModuleFailure('%s: could not replace the file: %s - %s' % (real, exc, UNCHANGED), path=real)
    if original is None:
        # atomic_move gives new files 0666 minus umask; settings files may get API keys later.
        try:
            os.chmod(real, NEW_FILE_MODE)
        except OSError as exc:
            raise ModuleFailure('%s was created but its mode could not be set to 0600: %s' % (real, _reason(exc)),
                                path=real)
    return backup_file[0] if backup_file else None


def converge(module, real, model, create=True, backup=False):
    """Read, edit and write ``real``, re-reading when another writer changes it under us."""
    for dummy in range(MAX_ATTEMPTS):
        original = read_bytes(real)
        previous, content = plan(real, original, model, create)
        result = dict(previous_model=previous, changed=content is not None,
                      created=original is None and content is not None)
        if content is None or module.check_mode:
            return result
        if original is None:
            make_directories(os.path.dirname(real))
        try:
            backup_file = replace(module, real, original, content, backup)
        except _ChangedUnderUs:
            continue
        if backup_file:
            result['backup_file'] = backup_file
        return result
    raise ModuleFailure('%s kept changing while this module tried to update it (%d attempts; another program such as '
                        'the Claude Code CLI is writing it); it was left as the other writer left it - retry later'
                        % (real, MAX_ATTEMPTS), path=real)


def _managed_settings_files():
    files = [os.path.join(MANAGED_SETTINGS_DIR, 'managed-settings.json')]
    files.extend(sorted(glob.glob(os.path.join(glob.escape(MANAGED_SETTINGS_DIR), 'managed-settings.d', '*.json'))))
    return files


def override_sources(path, real):
    """The settings sources that can outrank ``real``, with it, lowest precedence first, for model_resolution."""
    managed_root = os.path.realpath(MANAGED_SETTINGS_DIR)
    managed = [agent_host.read_settings_source('managed', candidate) for candidate in _managed_settings_files()]
    if (real + os.sep).startswith(managed_root + os.sep):
        # A managed file is outranked only by the managed files that load after it.
        paths = [source['path'] for source in managed]
        return managed[paths.index(real):] if real in paths else [agent_host.read_settings_source('managed', real)]
    sources = [agent_host.read_settings_source('project', real)]
    if os.path.basename(path) == 'settings.json':
        sources.append(agent_host.read_settings_source('local', os.path.join(os.path.dirname(path), 'settings.local.json')))
    return sources + managed


def find_overrides(path, real):
    """Return ``(overrides, warnings)``: what sets a model over ``real``'s "model", highest precedence first.

    model_resolution decides: a "model" key of a file that loads later (settings.local.json beside a settings.json,
    managed settings) and ANTHROPIC_MODEL in any of their env blocks, the file's own included.
    """
    sources = [source for source in override_sources(path, real) if source['path'] != real or source['scope'] != 'local']
    resolution = model_resolution.resolve(sources, [], [], None)
    overrides = []
    for candidate in resolution['candidates']:
        if candidate['kind'] == 'file' and candidate['path'] == real:
            continue
        key = 'model' if candidate['kind'] == 'file' else 'env.ANTHROPIC_MODEL'
        overrides.append(dict(path=candidate['path'], model=candidate['model'], key=key))
    problems = ['could not check whether %s overrides the model: Claude Code skips it: %s' % (entry['path'], entry['reason'])
                for entry in resolution['skipped']]
    if resolution['fatal']:
        problems.append('could not check whether other files override the model: %s' % resolution['fatal'])
    return overrides, problems


def model_diff(real, before, after):
    def render(value):
        return '' if value is None else 'model: %s\n' % json.dumps(value, ensure_ascii=False)
    header = '%s (model key only)' % real
    return dict(before=render(before), after=render(after), before_header=header, after_header=header)


def check_model(model, allowed_models):
    if model is None:
        raise ModuleFailure('model is required with state=present')
    try:
        validate_model(model)
    except ValueError as exc:
        raise ModuleFailure('invalid model: %s - nothing was changed' % exc)
    if allowed_models is not None and model not in allowed_models:
        raise ModuleFailure('model %s is not in allowed_models (%s) - nothing was changed'
                            % (json.dumps(model), ', '.join(json.dumps(item) for item in allowed_models) or 'empty'))


def run(module):
    params = module.params
    model = params['model'] if params['state'] == 'present' else None
    if params['state'] == 'present':
        check_model(model, params['allowed_models'])
    path = params['path']
    real = resolve(path)
    result = converge(module, real, model, params['create'], params['backup'])
    result.update(path=real, model=model)
    diffs = [model_diff(real, result['previous_model'], model)]
    if os.path.exists(real):
        file_args = module.load_file_common_arguments(params, path=real)
        attr_diff = dict(before=dict(path=real), after=dict(path=real))
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'], diff=attr_diff)
        if len(attr_diff['before']) > 1 or len(attr_diff['after']) > 1:
            diffs.append(attr_diff)
    if module._diff:
        result['diff'] = diffs[0] if len(diffs) == 1 else diffs
    overrides, problems = find_overrides(path, real)
    for override in overrides:
        module.warn('%s sets "%s" to %s, which takes precedence over "model" in %s: Claude Code will use that model instead'
                    % (override['path'], override['key'], json.dumps(override['model'], ensure_ascii=False), real))
    for problem in problems:
        module.warn(problem)
    result['overridden_by'] = overrides
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            model=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            create=dict(type='bool', default=True),
            backup=dict(type='bool', default=False),
            allowed_models=dict(type='list', elements='str'),
        ),
        required_if=[('state', 'present', ['model'])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except ModuleFailure as exc:
        module.fail_json(msg=exc.msg, **exc.extra)
    except _Terminated as exc:
        # The handler is restored by now, so this ends the process the way the signal meant to.
        os.kill(os.getpid(), exc.args[0])
        raise SystemExit(128 + exc.args[0])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
