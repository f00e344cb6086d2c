#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: config_snapshot
short_description: Keep byte-identical copies of configuration files on the host and put them back
version_added: 0.1.0
description:
  - Before a rollout changes a host, O(state=present) copies each file of O(files) and every file in
    O(directories) into a new snapshot directory C(<path>/<id>), with its mode and owner, and records which files did
    not exist. Each rollout gets its own snapshot; an existing one is never overwritten, and only the newest
    O(keep) are kept (never an unfinished one).
  - Each snapshot carries a marker of the phase its rollout reached, C(started) when taken; O(state=marked) moves it
    to C(complete), C(rolled-back) or C(abandoned). A C(started) snapshot of an earlier run is an unfinished rollout,
    which M(jada.agent.agent_host_info) reports.
  - When the rollout fails, O(state=restored) puts every file of a snapshot (O(id), the newest without it) back byte
    for byte (atomically, through symbolic links onto their targets) and removes the files that did not exist before,
    such as a drop-in or an environment file the rollout added.
  - Paths in O(links) are kept as what they are, not what they point to, so the link a version switch
    repoints (C(/opt/jada/bin/claude)) is put back as the same link.
  - With O(history), a mark that moves a snapshot to C(complete) or C(rolled-back) also appends one line to the
    rollout history O(history_file), in JSON lines of which the newest 500 are kept. A line says when, the rollout
    id, the result and the change (O(history)). Marking a snapshot again with the same phase appends nothing.
  - O(state=absent) removes a snapshot (O(id)), or all of them.
  - The snapshots stay on the host in directories of mode 0700, because settings and environment files hold
    secrets; nothing of their content is returned.
  - A snapshot of the earlier single-snapshot layout (a manifest directly in O(path)) becomes the snapshot
    C(before-rollout-ids), marked C(complete), when the next one is taken.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: Directory of the snapshots, one subdirectory per rollout.
    type: path
    default: /var/lib/jada-agent/snapshot
  state:
    description: Take a snapshot (V(present)), restore one (V(restored)), mark its phase (V(marked)) or remove it (V(absent)).
    type: str
    choices: [present, restored, marked, absent]
    default: present
  id:
    description:
      - The rollout's id, which names its snapshot. For V(present), a new id (time and random, such as
        C(20261130T084641Z-1f2e)) when not given; for V(restored) and V(marked), the newest snapshot when not given
        (or C(last)).
    type: str
  phase:
    description: The phase to record, for O(state=marked).
    type: str
    choices: [complete, rolled-back, abandoned]
  history:
    description:
      - For O(state=marked), the change the rollout made, recorded in O(history_file) when the mark changes the phase.
      - Only these keys are recorded; an empty value is recorded as C(null).
      - The line also has C(time) (when it was marked), C(rollout_id), C(result) (the phase) and, for C(complete),
        C(started), when the snapshot was taken.
    type: dict
    suboptions:
      from_model:
        description: The model the agent ran before the rollout.
        type: str
      to_model:
        description: The model the rollout set.
        type: str
      from_cli_version:
        description: The Claude Code CLI version before the rollout.
        type: str
      to_cli_version:
        description: The Claude Code CLI version the rollout installed.
        type: str
  history_file:
    description: The rollout history, one JSON object per line, written in one step (never half a line).
    type: path
    default: /var/lib/jada-agent/rollouts.jsonl
  keep:
    description: How many snapshots to keep, the newest; older finished ones are removed when a snapshot is taken.
    type: int
    default: 5
  files:
    description: Files to keep. C(~) and C(~user) expand on the host. A missing file is recorded as missing.
    type: list
    elements: path
    default: []
  directories:
    description: Directories whose regular files are all kept; files added to them later are removed on restore.
    type: list
    elements: path
    default: []
  links:
    description:
      - Paths kept as themselves rather than through symbolic links. A symbolic link is recorded with its target
        (as written, relative or not) and restored as the same link, atomically, whatever replaced it; its target
        is neither read nor kept. A regular file is kept byte for byte and put back in place of whatever replaced
        it, a link included. A missing path is recorded as missing and removed on restore.
      - Unlike O(files), whose links are followed and whose targets are kept and written back.
      - A path in both O(files) and O(links) is kept as a link. A directory fails the snapshot.
      - C(~) and C(~user) expand on the host.
    type: list
    elements: path
    default: []
seealso:
  - module: jada.agent.claude_settings
"""

EXAMPLES = r"""
- name: Keep the configuration before the rollout
  jada.agent.config_snapshot:
    path: /var/lib/jada-agent/snapshot
    files:
      - ~jada/.claude/settings.json
      - /srv/jada/orchestrator/.claude/settings.json
      - /etc/systemd/system/jada-agent.service
    directories:
      - /etc/systemd/system/jada-agent.service.d
    # A CLI version switch repoints this link: the rollback repoints it back.
    links:
      - /opt/jada/bin/claude
  register: snapshot

- name: Put the previous configuration back
  jada.agent.config_snapshot:
    path: /var/lib/jada-agent/snapshot
    id: "{{ snapshot.id }}"
    state: restored

- name: Record that the rollout was verified, and what it changed in the rollout history
  jada.agent.config_snapshot:
    path: /var/lib/jada-agent/snapshot
    id: "{{ snapshot.id }}"
    state: marked
    phase: complete
    history:
      from_model: claude-haiku-4-5
      to_model: claude-sonnet-4-6
      from_cli_version: 2.1.327
      to_cli_version: 2.1.328
"""

RETURN = r"""
id:
  description: The id of the snapshot taken, restored or marked.
  returned: for O(state=present), O(state=restored) and O(state=marked)
  type: str
  sample: 20261130T084641Z-1f2e
phase:
  description: Its phase, as recorded now (for O(state=restored), as found).
  returned: for O(state=present), O(state=restored) and O(state=marked)
  type: str
  sample: started
pruned:
  description: Ids of the older snapshots removed after this one was taken (O(keep)).
  returned: for O(state=present)
  type: list
  elements: str
files:
  description:
    - What the snapshot holds, or what was restored; one entry per file.
    - For O(state=present), C(path), C(real_path) and C(existed); entries of O(links) also C(link), the target
      of a symbolic link or C(null) for anything else.
    - For O(state=restored), C(path), C(existed) and C(action), which is C(written) (bytes put back), C(linked)
      (a symbolic link put back) or C(removed) (a file the rollout added).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/systemd/system/jada-agent.service.d/50-limits.conf, existed: false, action: removed}
    - {path: /opt/jada/bin/claude, existed: true, action: linked}
restored:
  description: Paths that were written back or removed, for O(state=restored).
  returned: always
  type: list
  elements: str
history:
  description: The line appended to O(history_file), as an object.
  returned: when O(state=marked) changed the phase to C(complete) or C(rolled-back) and O(history) is set
  type: dict
  sample:
    time: '2026-12-01T04:05:00Z'
    started: '2026-12-01T04:04:12Z'
    rollout_id: 20261201T040412Z-1f2e
    result: complete
    from_model: claude-haiku-4-5
    to_model: claude-sonnet-4-6
    from_cli_version: 2.1.327
    to_cli_version: 2.1.328
"""

import binascii
import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils import snapshots
from ansible_collections.jada.agent.plugins.module_utils.atomic_file import replace_file

MANIFEST = snapshots.MANIFEST


def list_targets(files, directories):
    """The files to keep: the named ones and the regular files of each directory."""
    targets = list(files)
    for directory in directories:
        if os.path.isdir(directory):
            targets += [os.path.join(directory, name) for name in sorted(os.listdir(directory))
                        if os.path.isfile(os.path.join(directory, name))]
    return targets


class NotKeepable(Exception):
    pass


def own_path(path):
    """Where the entry at ``path`` itself lives: its directories resolved, never its last component."""
    path = os.path.normpath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def file_entry(path, index):
    real_path = os.path.realpath(path)
    entry = {'path': path, 'real_path': real_path, 'existed': os.path.isfile(real_path)}
    if entry['existed']:
        status = os.stat(real_path)
        entry.update(copy='%03d' % index, mode=status.st_mode & 0o7777, uid=status.st_uid, gid=status.st_gid)
    return entry


def link_entry(path, index):
    """An entry of ``links``: a link keeps its target, a regular file its bytes, both in place of the path."""
    real_path = own_path(path)
    entry = {'path': path, 'real_path': real_path, 'existed': os.path.lexists(real_path), 'follow': False, 'link': None}
    if os.path.islink(real_path):
        status = os.lstat(real_path)
        entry.update(link=os.readlink(real_path), uid=status.st_uid, gid=status.st_gid)
    elif os.path.isfile(real_path):
        status = os.stat(real_path)
        entry.update(copy='%03d' % index, mode=status.st_mode & 0o7777, uid=status.st_uid, gid=status.st_gid)
    elif entry['existed']:
        raise NotKeepable('%s is neither a regular file nor a symbolic link; only those can be kept' % path)
    return entry


def take(snapshot_dir, files, directories, links=()):
    links = list(dict.fromkeys(links))
    # A path named in links is the link itself, even when a directory listing or files names it too.
    targets = [path for path in list_targets(files, directories) if path not in links]
    entries = [file_entry(path, index) for index, path in enumerate(targets)]
    entries += [link_entry(path, len(targets) + index) for index, path in enumerate(links)]
    return {'entries': entries, 'directories': list(directories)}


def write_snapshot(snapshot_dir, manifest):
    os.makedirs(snapshot_dir, 0o700)
    for entry in manifest['entries']:
        # A link entry keeps only its target, in the manifest: nothing behind it is copied.
        if 'copy' in entry:
            shutil.copyfile(entry['real_path'], os.path.join(snapshot_dir, entry['copy']))
    with open(os.path.join(snapshot_dir, MANIFEST), 'w') as handle:
        json.dump(manifest, handle)


def action_of(entry):
    if not entry['existed']:
        return 'removed'
    return 'linked' if entry.get('link') is not None else 'written'


def restore_plan(manifest):
    """(entry, action) pairs: write back what existed, remove what the rollout added to the directories."""
    plan = [(entry, action_of(entry)) for entry in manifest['entries']]
    known = set(entry['path'] for entry in manifest['entries'])
    for path in list_targets([], manifest['directories']):
        if path not in known:
            # The entry itself is new: remove it, never the target of a symbolic link added there.
            plan.append(({'path': path, 'real_path': path, 'existed': False}, 'removed'))
    return plan


def unchanged(snapshot_dir, entry):
    """Whether the file already holds the snapshot's bytes, mode and owner."""
    if not entry.get('follow', True) and os.path.islink(entry['real_path']):
        # A link now stands where a file of links was: same bytes behind it are not the same file.
        return False
    try:
        status = os.stat(entry['real_path'])
        with open(entry['real_path'], 'rb') as current, open(os.path.join(snapshot_dir, entry['copy']), 'rb') as kept:
            same_bytes = current.read() == kept.read()
    except (IOError, OSError):
        return False
    return same_bytes and (status.st_mode & 0o7777, status.st_uid, status.st_gid) == (entry['mode'], entry['uid'], entry['gid'])


def link_unchanged(entry):
    try:
        status = os.lstat(entry['real_path'])
        target = os.readlink(entry['real_path'])
    except (IOError, OSError):
        return False
    return target == entry['link'] and (status.st_uid, status.st_gid) == (entry['uid'], entry['gid'])


def restore_target(module, real_path):
    """The directory to restore real_path in (made when missing) and the SELinux context it must get, or None."""
    directory = os.path.dirname(real_path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    context = None
    if module.selinux_enabled():
        context = module.selinux_context(real_path) if os.path.lexists(real_path) else module.selinux_default_context(real_path)
    return directory, context


def put_link(module, entry):
    """Put the link back atomically: a new link beside it renamed over whatever is there now.

    Removing first and linking after would leave a moment without the CLI, while the service may start it.
    """
    real_path = entry['real_path']
    directory, context = restore_target(module, real_path)
    temporary = os.path.join(directory, '.jada-restore.%d.%s' % (os.getpid(), binascii.hexlify(os.urandom(8)).decode()))
    os.symlink(entry['link'], temporary)
    try:
        os.lchown(temporary, entry['uid'], entry['gid'])
        if context:
            module.set_context_if_different(temporary, context, False)
        os.rename(temporary, real_path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def put_back(module, snapshot_dir, entry):
    """Replace the real path atomically with the kept bytes, mode and owner.

    A rename within the directory, not AnsibleModule.atomic_move: that copies the mode and owner of the
    file it replaces (or, for a file the rollout deleted, applies the umask and the current user) over
    the kept ones.
    """
    real_path = entry['real_path']
    dummy, context = restore_target(module, real_path)
    with open(os.path.join(snapshot_dir, entry['copy']), 'rb') as kept:
        content = kept.read()

    def as_kept(temporary):
        os.chown(temporary, entry['uid'], entry['gid'])
        os.chmod(temporary, entry['mode'])
        if context:
            module.set_context_if_different(temporary, context, False)

    replace_file(real_path, content, prepare=as_kept, move=os.rename, prefix='.jada-restore.')


def migrate_legacy(root, now):
    """Move a snapshot of the single-snapshot layout (a manifest in the root) into a snapshot of its own."""
    if not os.path.isfile(os.path.join(root, MANIFEST)):
        return
    since = os.stat(os.path.join(root, MANIFEST)).st_mtime
    target = os.path.join(root, snapshots.LEGACY_ID)
    os.makedirs(target, 0o700)
    for name in os.listdir(root):
        if os.path.isfile(os.path.join(root, name)):
            os.rename(os.path.join(root, name), os.path.join(target, name))
    write_marker(target, snapshots.marker('complete', now, since))


def write_marker(directory, state):
    replace_file(os.path.join(directory, snapshots.MARKER), json.dumps(state).encode('utf-8'), prefix='.jada-marker.')


def take_snapshot(module, root):
    rollout_id = module.params['id'] or snapshots.new_id(time.time())
    problem = snapshots.id_problem(rollout_id)
    if problem:
        module.fail_json(msg='%s; no snapshot was taken' % problem)
    directory = os.path.join(root, rollout_id)
    if os.path.lexists(directory):
        module.fail_json(msg='a snapshot %s already exists in %s, and a snapshot is never overwritten: give this rollout '
                             'another id (jada_agent_rollout_id); no snapshot was taken' % (rollout_id, root))
    try:
        manifest = take(directory, module.params['files'], module.params['directories'], module.params['links'])
    except NotKeepable as exc:
        module.fail_json(msg='%s; no snapshot was taken' % exc)
    pruned = []
    if not module.check_mode:
        now = time.time()
        try:
            if not os.path.isdir(root):
                os.makedirs(root, 0o700)
            migrate_legacy(root, now)
            write_snapshot(directory, manifest)
            # The marker last: a directory without it is a rollout killed while its snapshot was being taken.
            write_marker(directory, snapshots.marker(snapshots.STARTED, now))
            pruned = snapshots.to_prune(snapshots.list_snapshots(root), module.params['keep'], protect=(rollout_id,))
            for name in pruned:
                shutil.rmtree(os.path.join(root, name))
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot write the snapshot to %s: %s' % (directory, exc))
    files = [dict((key, entry[key]) for key in ('path', 'real_path', 'existed', 'link') if key in entry)
             for entry in manifest['entries']]
    module.exit_json(changed=True, id=rollout_id, phase=snapshots.STARTED, files=files, restored=[], pruned=pruned)


def chosen(module, root, what):
    """The snapshot O(id) names (the newest without one), or a failure naming the ones there are."""
    found = snapshots.list_snapshots(root)
    entry = snapshots.find(found, module.params['id'])
    if entry is None:
        module.fail_json(msg='no snapshot %s in %s (there are: %s); nothing was %s'
                             % (module.params['id'] or snapshots.LAST, root,
                                ', '.join('%s (%s)' % (item['id'], item['phase']) for item in found) or 'none', what),
                         files=[], restored=[])
    return entry


def restore(module, root):
    entry = chosen(module, root, 'restored')
    snapshot_dir = os.path.join(root, entry['id'])
    try:
        with open(os.path.join(snapshot_dir, MANIFEST)) as handle:
            manifest = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        module.fail_json(msg='no usable snapshot in %s (%s); nothing was restored' % (snapshot_dir, exc))
    restored, files = [], []
    for item, action in restore_plan(manifest):
        files.append({'path': item['path'], 'existed': item['existed'], 'action': action})
        if action == 'removed' and not os.path.lexists(item['real_path']):
            continue
        if action == 'written' and unchanged(snapshot_dir, item):
            continue
        if action == 'linked' and link_unchanged(item):
            continue
        if not module.check_mode:
            try:
                if action == 'written':
                    put_back(module, snapshot_dir, item)
                elif action == 'linked':
                    put_link(module, item)
                else:
                    os.unlink(item['real_path'])
            except (IOError, OSError) as exc:
                module.fail_json(msg='restoring %s from the snapshot in %s failed: %s' % (item['path'], snapshot_dir, exc),
                                 restored=restored, files=files)
        restored.append(item['path'])
    module.exit_json(changed=bool(restored), id=entry['id'], phase=entry['phase'], files=files, restored=restored)


def mark(module, root):
    if not module.params['phase']:
        module.fail_json(msg='state=marked needs phase (%s)' % ', '.join(snapshots.PHASES[1:]))
    entry = chosen(module, root, 'marked')
    changed = entry['phase'] != module.params['phase']
    now = time.time()
    result = dict(changed=changed, id=entry['id'], phase=module.params['phase'], files=[], restored=[])
    if changed and not module.check_mode:
        try:
            write_marker(os.path.join(root, entry['id']),
                         snapshots.marker(module.params['phase'], now, entry['since']))
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot mark the snapshot %s in %s: %s' % (entry['id'], root, exc))
    if changed and module.params['history'] is not None and module.params['phase'] in ('complete', 'rolled-back'):
        # A complete rollout says when it began too (a manual rollback marks an older snapshot: not its own start).
        started = entry['since'] if module.params['phase'] == 'complete' else None
        line = snapshots.history_line(entry['id'], module.params['phase'], now, module.params['history'], started)
        result['history'] = json.loads(line)
        if not module.check_mode:
            append_history(module, module.params['history_file'], line)
    module.exit_json(**result)


def append_history(module, path, line):
    try:
        with open(path, 'rb') as handle:
            existing = handle.read()
    except (IOError, OSError):
        existing = b''
    try:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        replace_file(path, snapshots.with_history_line(existing, line),
                     prepare=lambda temporary: os.chmod(temporary, 0o644))
    except (IOError, OSError) as exc:
        module.fail_json(msg='the rollout is marked, but its line could not be added to the rollout history %s: %s'
                         % (path, exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/jada-agent/snapshot'),
            state=dict(type='str', choices=['present', 'restored', 'marked', 'absent'], default='present'),
            id=dict(type='str'),
            phase=dict(type='str', choices=list(snapshots.PHASES[1:])),
            history=dict(type='dict', options=dict((key, dict(type='str')) for key in snapshots.HISTORY_KEYS)),
            history_file=dict(type='path', default='/var/lib/jada-agent/rollouts.jsonl'),
            keep=dict(type='int', default=5),
            files=dict(type='list', elements='path', default=[]),
            directories=dict(type='list', elements='path', default=[]),
            links=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    root = module.params['path']
    state = module.params['state']

    if state == 'absent':
        target = os.path.join(root, module.params['id']) if module.params['id'] else root
        exists = os.path.isdir(target)
        if exists and not module.check_mode:
            shutil.rmtree(target)
        module.exit_json(changed=exists, files=[], restored=[])
    if state == 'present':
        take_snapshot(module, root)
    if state == 'marked':
        mark(module, root)
    restore(module, root)


if __name__ == '__main__':
    main()
