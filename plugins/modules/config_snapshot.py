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
    O(directories) into the snapshot directory O(path), with its mode and owner, and records which files did
    not exist.
  - When the rollout fails, O(state=restored) puts every file back byte for byte (atomically, through
    symbolic links onto their targets) and removes the files that did not exist before, such as a drop-in
    the rollout added.
  - Paths in O(links) are kept as what they are, not what they point to, so the link a version switch
    repoints (C(/opt/jada/bin/claude)) is put back as the same link.
  - O(state=absent) removes the snapshot.
  - The snapshot stays on the host in a directory of mode 0700, because settings and environment files hold
    secrets; nothing of their content is returned.
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
    description: Directory of the snapshot.
    type: path
    default: /var/lib/jada-agent/snapshot
  state:
    description: Take a snapshot (V(present)), restore it (V(restored)) or remove it (V(absent)).
    type: str
    choices: [present, restored, absent]
    default: present
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

- name: Put the previous configuration back
  jada.agent.config_snapshot:
    path: /var/lib/jada-agent/snapshot
    state: restored
"""

RETURN = r"""
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
"""

import binascii
import json
import os
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils.atomic_file import replace_file

MANIFEST = 'manifest.json'


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
    if os.path.isdir(snapshot_dir):
        shutil.rmtree(snapshot_dir)
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/jada-agent/snapshot'),
            state=dict(type='str', choices=['present', 'restored', 'absent'], default='present'),
            files=dict(type='list', elements='path', default=[]),
            directories=dict(type='list', elements='path', default=[]),
            links=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    snapshot_dir = module.params['path']
    state = module.params['state']

    if state == 'absent':
        exists = os.path.isdir(snapshot_dir)
        if exists and not module.check_mode:
            shutil.rmtree(snapshot_dir)
        module.exit_json(changed=exists, files=[], restored=[])

    if state == 'present':
        try:
            manifest = take(snapshot_dir, module.params['files'], module.params['directories'], module.params['links'])
        except NotKeepable as exc:
            module.fail_json(msg='%s; no snapshot was taken' % exc)
        if not module.check_mode:
            try:
                write_snapshot(snapshot_dir, manifest)
            except (IOError, OSError) as exc:
                module.fail_json(msg='cannot write the snapshot to %s: %s' % (snapshot_dir, exc))
        files = [dict((key, entry[key]) for key in ('path', 'real_path', 'existed', 'link') if key in entry)
                 for entry in manifest['entries']]
        module.exit_json(changed=True, files=files, restored=[])

    try:
        with open(os.path.join(snapshot_dir, MANIFEST)) as handle:
            manifest = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        module.fail_json(msg='no usable snapshot in %s (%s); nothing was restored' % (snapshot_dir, exc))
    restored, files = [], []
    for entry, action in restore_plan(manifest):
        files.append({'path': entry['path'], 'existed': entry['existed'], 'action': action})
        if action == 'removed' and not os.path.lexists(entry['real_path']):
            continue
        if action == 'written' and unchanged(snapshot_dir, entry):
            continue
        if action == 'linked' and link_unchanged(entry):
            continue
        if not module.check_mode:
            try:
                if action == 'written':
                    put_back(module, snapshot_dir, entry)
                elif action == 'linked':
                    put_link(module, entry)
                else:
                    os.unlink(entry['real_path'])
            except (IOError, OSError) as exc:
                module.fail_json(msg='restoring %s from the snapshot in %s failed: %s' % (entry['path'], snapshot_dir, exc),
                                 restored=restored, files=files)
        restored.append(entry['path'])
    module.exit_json(changed=bool(restored), files=files, restored=restored)


if __name__ == '__main__':
    main()
