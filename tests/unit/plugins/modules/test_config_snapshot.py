# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from ansible_collections.jada.agent.plugins.modules import config_snapshot
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module, write_file


SECRET = 'sk-ant-api03-SECRET-never-print-me'

# Byte-exact originals: unicode, CRLF, no trailing newline.
SETTINGS = ('{\n  "model": "claude-haiku-4-5",\n  "env": {"ANTHROPIC_API_KEY": "' + SECRET + '"},\n'
            '  "statusLine": "gr\u00fc\u00df \U0001f600"\n}').encode('utf-8')
UNIT = b'[Unit]\r\nDescription=Jada agent orchestrator\r\n\r\n[Service]\r\nExecStart=/opt/jada/bin/claude\r\n'
ENV_DROPIN = b'[Service]\nEnvironment="JADA_GREETING=hello world"'

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='changing a file owner needs root')
OWNER = (1001, 1002)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def owner_of(path):
    status = os.stat(str(path))
    return status.st_uid, status.st_gid


class Host(object):
    """The configuration a rollout touches, in a temporary directory."""

    def __init__(self, root):
        self.root = root
        # The snapshots of every rollout; the tests' rollout is "r1" unless they say otherwise.
        self.snapshots = root / 'var' / 'lib' / 'jada-agent' / 'snapshot'
        self.snapshot = self.snapshots / 'r1'
        # ~jada/.claude/settings.json is a link into a dotfiles checkout.
        self.settings_target = write_file(root / 'home' / 'jada' / 'dotfiles' / 'claude-settings.json', SETTINGS, 0o600)
        self.settings_link = root / 'home' / 'jada' / '.claude' / 'settings.json'
        self.settings_link.parent.mkdir(parents=True)
        self.settings_link.symlink_to(os.path.join('..', 'dotfiles', 'claude-settings.json'))
        # Does not exist before the rollout.
        self.local_settings = root / 'srv' / 'jada' / 'orchestrator' / '.claude' / 'settings.local.json'
        self.unit = write_file(root / 'etc' / 'systemd' / 'system' / 'jada-agent.service', UNIT)
        self.dropins = root / 'etc' / 'systemd' / 'system' / 'jada-agent.service.d'
        self.env_dropin = write_file(self.dropins / '10-environment.conf', ENV_DROPIN)
        self.new_dropin = self.dropins / '50-limits.conf'

    def args(self, state='present', **extra):
        args = {
            'path': str(self.snapshots),
            'id': 'r1',
            'state': state,
            'files': [str(self.settings_link), str(self.local_settings), str(self.unit)],
            'directories': [str(self.dropins)],
        }
        args.update(extra)
        return args

    def rollout(self):
        """What a rollout does: edit through the link, add files, edit a drop-in, change the unit."""
        replacement = self.settings_target.parent / '.claude-settings.json.tmp'
        write_file(replacement, b'{"model": "claude-sonnet-4-6"}\n', 0o644)
        os.rename(str(replacement), str(self.settings_target))
        write_file(self.local_settings, b'{"model": "claude-sonnet-4-6"}\n', 0o600)
        write_file(self.env_dropin, b'[Service]\nEnvironment="JADA_GREETING=hi"\n')
        write_file(self.new_dropin, b'[Service]\nLimitNOFILE=65536\n')
        write_file(self.unit, UNIT.replace(b'claude\r\n', b'claude --model claude-sonnet-4-6\r\n'))

    def contents(self):
        """Every file of the configuration (links resolved) with its bytes and mode."""
        found = {}
        for directory in (self.root / 'home', self.root / 'srv', self.root / 'etc'):
            for base, dummy, names in os.walk(str(directory)):
                for name in names:
                    path = os.path.join(base, name)
                    with open(path, 'rb') as handle:
                        found[path] = (os.path.islink(path), handle.read(), mode_of(path))
        return found


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


@pytest.fixture
def run(capsys):
    def run_snapshot(args, check_mode=False):
        return run_module(config_snapshot.main, args, capsys, check_mode=check_mode)

    return run_snapshot


# --- present ----------------------------------------------------------------------------------------

def test_present_records_every_file(host, run):
    result = run(host.args())

    assert not result.failed
    assert result['changed'] is True
    assert result['restored'] == []
    assert result['files'] == [
        {'path': str(host.settings_link), 'real_path': str(host.settings_target), 'existed': True},
        {'path': str(host.local_settings), 'real_path': str(host.local_settings), 'existed': False},
        {'path': str(host.unit), 'real_path': str(host.unit), 'existed': True},
        {'path': str(host.env_dropin), 'real_path': str(host.env_dropin), 'existed': True},
    ]


def test_present_keeps_byte_identical_copies_in_a_private_directory(host, run):
    run(host.args())

    assert mode_of(host.snapshots) == 0o700 and mode_of(host.snapshot) == 0o700
    manifest = json.loads((host.snapshot / 'manifest.json').read_text())
    copies = dict((entry['path'], (host.snapshot / entry['copy']).read_bytes())
                  for entry in manifest['entries'] if entry['existed'])
    assert copies == {str(host.settings_link): SETTINGS, str(host.unit): UNIT, str(host.env_dropin): ENV_DROPIN}
    settings_entry = manifest['entries'][0]
    assert (settings_entry['mode'], settings_entry['uid'], settings_entry['gid']) == (
        0o600,) + owner_of(host.settings_target)


def test_present_never_returns_content(host, run):
    result = run(host.args())

    assert SECRET not in result.text
    assert 'gr\u00fc\u00df' not in result.text


def test_present_expands_the_home_directory(host, run, monkeypatch):
    monkeypatch.setenv('HOME', str(host.root / 'home' / 'jada'))

    result = run(host.args(files=['~/.claude/settings.json'], directories=[]))

    assert result['files'] == [{'path': str(host.settings_link), 'real_path': str(host.settings_target), 'existed': True}]


def test_present_never_overwrites_a_snapshot(host, run):
    run(host.args())
    host.rollout()

    again = run(host.args())

    assert again.failed
    assert again['msg'] == ('a snapshot r1 already exists in %s, and a snapshot is never overwritten: give this rollout '
                            'another id (jada_agent_rollout_id); no snapshot was taken' % host.snapshots)
    # The first snapshot still holds the state before the rollout.
    assert run(host.args('restored'))['changed'] is True
    assert host.settings_target.read_bytes() == SETTINGS


def test_each_rollout_has_its_own_snapshot(host, run):
    run(host.args())
    host.rollout()

    second = run(host.args(id='r2'))
    nothing = run(host.args('restored', id='r2'))
    everything = run(host.args('restored', id='r1'))

    assert second['id'] == 'r2' and second['phase'] == 'started' and second['pruned'] == []
    # The second snapshot holds the rolled-out state: nothing to put back; the first puts everything back.
    assert nothing['changed'] is False and everything['changed'] is True
    assert host.settings_target.read_bytes() == SETTINGS
    # Copies of the settings, settings.local.json (now existing), the unit and both drop-ins.
    copies = ['000', '001', '002', '003', '004', 'manifest.json', 'phase.json']
    assert sorted(os.listdir(str(host.snapshots / 'r2'))) == copies


def test_without_an_id_a_new_one_is_made_and_the_newest_is_restored(host, run):
    first = run(host.args(id=None))
    host.rollout()
    restored = run(host.args('restored', id=None))

    assert re.match(r'^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$', first['id'])
    assert restored['id'] == first['id'] and restored['changed'] is True


def test_a_bad_id_is_refused(host, run):
    result = run(host.args(id='../etc'))

    assert result.failed and result['msg'].startswith("rollout id '../etc': use 1 to 100 letters")
    assert not host.snapshots.exists()


def test_phases_are_marked(host, run):
    taken = run(host.args())
    marked = run(host.args('marked', phase='complete'))
    again = run(host.args('marked', phase='complete'))

    assert taken['phase'] == 'started'
    assert (marked['changed'], marked['phase'], again['changed']) == (True, 'complete', False)
    state = json.loads((host.snapshot / 'phase.json').read_text())
    assert state['phase'] == 'complete' and state['since'] <= state['time']


CHANGE = {'from_model': 'claude-haiku-4-5', 'to_model': 'claude-sonnet-4-6', 'from_cli_version': '2.1.327',
          'to_cli_version': '2.1.328'}


def history_of(host):
    path = host.root / 'rollouts.jsonl'
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_finished_rollout_gets_one_history_line(host, run):
    history_file = str(host.root / 'rollouts.jsonl')
    run(host.args())
    marked = run(host.args('marked', phase='complete', history=CHANGE, history_file=history_file))
    # The same mark again (a rerun of the task): no second line.
    run(host.args('marked', phase='complete', history=CHANGE, history_file=history_file))
    run(host.args(id='r2'))
    run(host.args('marked', id='r2', phase='rolled-back', history=dict(CHANGE, from_cli_version=''),
                  history_file=history_file))

    history = history_of(host)
    assert [(line['rollout_id'], line['result']) for line in history] == [('r1', 'complete'), ('r2', 'rolled-back')]
    assert dict((key, history[0][key]) for key in CHANGE) == CHANGE
    assert history[1]['from_cli_version'] is None
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', history[0]['time'])
    # A complete rollout says when its snapshot was taken, at or before its end; a rolled-back one needs no start.
    assert history[0]['started'] <= history[0]['time'] and 'started' not in history[1]
    assert marked['history'] == history[0]
    assert mode_of(history_file) == 0o644


@pytest.mark.parametrize('args', [
    dict(phase='complete'),
    dict(phase='abandoned', history=CHANGE),
])
def test_no_history_line_without_a_change_or_for_an_abandoned_rollout(host, run, args):
    run(host.args())
    result = run(host.args('marked', history_file=str(host.root / 'rollouts.jsonl'), **args))

    assert result['changed'] is True and 'history' not in result
    assert history_of(host) == []


def test_check_mode_writes_no_history(host, run):
    run(host.args())
    result = run(host.args('marked', phase='complete', history=CHANGE,
                           history_file=str(host.root / 'rollouts.jsonl')), check_mode=True)

    assert result['history']['to_model'] == 'claude-sonnet-4-6'
    assert history_of(host) == []


def test_only_the_newest_finished_snapshots_are_kept(host, run):
    for name in ('r1', 'r2', 'r3'):
        run(host.args(id=name))
        run(host.args('marked', id=name, phase='complete'))
    run(host.args(id='r4'))
    result = run(host.args(id='r5', keep=2))

    # r4 is unfinished: kept whatever keep says, like the new one.
    assert result['pruned'] == ['r1', 'r2', 'r3']
    assert sorted(os.listdir(str(host.snapshots))) == ['r4', 'r5']


def test_a_snapshot_of_the_single_snapshot_layout_is_kept_as_its_own(host, run):
    write_file(host.snapshots / 'manifest.json', json.dumps({'entries': [], 'directories': []}).encode())
    write_file(host.snapshots / '000', b'old copy')

    run(host.args())

    assert sorted(os.listdir(str(host.snapshots))) == ['before-rollout-ids', 'r1']
    assert sorted(os.listdir(str(host.snapshots / 'before-rollout-ids'))) == ['000', 'manifest.json', 'phase.json']
    assert json.loads((host.snapshots / 'before-rollout-ids' / 'phase.json').read_text())['phase'] == 'complete'


def test_present_in_check_mode_writes_nothing(host, run):
    before = host.contents()

    result = run(host.args(), check_mode=True)

    assert not result.failed
    assert result['changed'] is True
    assert [entry['existed'] for entry in result['files']] == [True, False, True, True]
    assert not host.snapshot.parent.exists()
    assert host.contents() == before


# --- restored ---------------------------------------------------------------------------------------

def test_restore_after_a_rollout_puts_everything_back(host, run):
    before = host.contents()
    run(host.args())
    host.rollout()
    assert host.contents() != before

    result = run(host.args('restored'))

    assert not result.failed
    assert result['changed'] is True
    assert sorted(result['restored']) == sorted([
        str(host.settings_link), str(host.local_settings), str(host.unit), str(host.env_dropin), str(host.new_dropin)])
    assert host.contents() == before


def test_restore_reports_each_file_and_what_it_did(host, run):
    run(host.args())
    host.rollout()

    result = run(host.args('restored'))

    assert result['files'] == [
        {'path': str(host.settings_link), 'existed': True, 'action': 'written'},
        {'path': str(host.local_settings), 'existed': False, 'action': 'removed'},
        {'path': str(host.unit), 'existed': True, 'action': 'written'},
        {'path': str(host.env_dropin), 'existed': True, 'action': 'written'},
        {'path': str(host.new_dropin), 'existed': False, 'action': 'removed'},
    ]
    assert SECRET not in result.text


def test_restore_writes_through_the_symlink(host, run):
    run(host.args())
    host.rollout()

    run(host.args('restored'))

    assert host.settings_link.is_symlink()
    assert os.readlink(str(host.settings_link)) == os.path.join('..', 'dotfiles', 'claude-settings.json')
    assert host.settings_target.read_bytes() == SETTINGS
    assert mode_of(host.settings_target) == 0o600


@needs_root
def test_restore_puts_back_mode_and_owner_through_the_symlink(host, run):
    os.chown(str(host.settings_target), *OWNER)
    run(host.args())
    host.rollout()
    os.chown(str(host.settings_target), 0, 0)
    os.chmod(str(host.settings_target), 0o644)

    run(host.args('restored'))

    assert host.settings_link.is_symlink()
    assert host.settings_target.read_bytes() == SETTINGS
    assert mode_of(host.settings_target) == 0o600
    assert owner_of(host.settings_target) == OWNER


def test_restore_of_a_mode_change_alone(host, run):
    run(host.args())
    os.chmod(str(host.unit), 0o600)

    result = run(host.args('restored'))

    assert result['restored'] == [str(host.unit)]
    assert mode_of(host.unit) == 0o644
    assert host.unit.read_bytes() == UNIT


@needs_root
def test_restore_recreates_a_deleted_file_with_its_mode_and_owner(host, run):
    os.chown(str(host.env_dropin), *OWNER)
    os.chmod(str(host.env_dropin), 0o640)
    run(host.args())
    host.env_dropin.unlink()

    result = run(host.args('restored'))

    assert result['restored'] == [str(host.env_dropin)]
    assert host.env_dropin.read_bytes() == ENV_DROPIN
    assert mode_of(host.env_dropin) == 0o640
    assert owner_of(host.env_dropin) == OWNER


def test_restore_recreates_a_deleted_directory(host, run):
    run(host.args())
    for name in os.listdir(str(host.dropins)):
        os.unlink(str(host.dropins / name))
    host.dropins.rmdir()

    run(host.args('restored'))

    assert host.env_dropin.read_bytes() == ENV_DROPIN


def test_restore_removes_files_created_by_the_rollout(host, run):
    run(host.args())
    host.rollout()

    run(host.args('restored'))

    assert not host.local_settings.exists()
    assert not host.new_dropin.exists()
    assert sorted(os.listdir(str(host.dropins))) == ['10-environment.conf']


def test_restore_removes_a_link_added_to_a_directory_but_not_its_target(host, run):
    run(host.args())
    shared = write_file(host.root / 'usr' / 'share' / 'jada' / 'limits.conf', b'[Service]\nLimitNOFILE=65536\n')
    host.new_dropin.symlink_to(shared)

    result = run(host.args('restored'))

    assert result['restored'] == [str(host.new_dropin)]
    assert not os.path.lexists(str(host.new_dropin))
    assert shared.read_bytes() == b'[Service]\nLimitNOFILE=65536\n'


def test_restore_removes_files_of_a_directory_the_rollout_created(host, run):
    later = host.root / 'etc' / 'systemd' / 'system' / 'jada-agent.socket.d'
    run(host.args(directories=[str(host.dropins), str(later)]))
    write_file(later / '50-backlog.conf', b'[Socket]\nBacklog=4096\n')

    result = run(host.args('restored', directories=[str(host.dropins), str(later)]))

    assert result['restored'] == [str(later / '50-backlog.conf')]
    assert os.listdir(str(later)) == []


def test_restore_is_idempotent(host, run):
    run(host.args())
    host.rollout()
    run(host.args('restored'))
    after_first = host.contents()

    second = run(host.args('restored'))

    assert not second.failed
    assert second['changed'] is False
    assert second['restored'] == []
    assert host.contents() == after_first


def test_restore_without_changes_changes_nothing(host, run):
    run(host.args())
    unit_inode = os.stat(str(host.unit)).st_ino

    result = run(host.args('restored'))

    assert result['changed'] is False
    assert os.stat(str(host.unit)).st_ino == unit_inode


def test_restore_leaves_no_temporary_files(host, run):
    run(host.args())
    host.rollout()

    run(host.args('restored'))

    leftovers = [name for directory in (host.dropins, host.unit.parent, host.settings_target.parent)
                 for name in os.listdir(str(directory)) if name.startswith('.')]
    assert leftovers == []


def test_restore_in_check_mode_reports_without_writing(host, run):
    run(host.args())
    host.rollout()
    rolled_out = host.contents()

    result = run(host.args('restored'), check_mode=True)

    assert not result.failed
    assert result['changed'] is True
    assert sorted(result['restored']) == sorted([
        str(host.settings_link), str(host.local_settings), str(host.unit), str(host.env_dropin), str(host.new_dropin)])
    assert host.contents() == rolled_out


def test_restore_in_check_mode_without_changes(host, run):
    run(host.args())

    result = run(host.args('restored'), check_mode=True)

    assert result['changed'] is False


def test_restore_needs_only_the_snapshot(host, run):
    run(host.args())
    host.rollout()

    # The manifest knows the files and directories: state=restored needs no list.
    result = run({'path': str(host.snapshots), 'state': 'restored'})

    assert result['changed'] is True
    assert host.settings_target.read_bytes() == SETTINGS
    assert not host.new_dropin.exists()


def test_restore_without_a_snapshot_fails_naming_the_directory(host, run):
    result = run(host.args('restored'))

    assert result.failed
    assert result['msg'] == 'no snapshot r1 in %s (there are: none); nothing was restored' % host.snapshots
    assert host.unit.read_bytes() == UNIT


def test_restore_with_a_damaged_manifest_fails(host, run):
    run(host.args())
    (host.snapshot / 'manifest.json').write_text('{"entries": [')

    result = run(host.args('restored'))

    assert result.failed
    assert result['msg'].startswith('no usable snapshot in %s (' % host.snapshot)


def test_restore_with_a_lost_copy_fails_naming_the_file(host, run):
    run(host.args())
    host.rollout()
    (host.snapshot / '002').unlink()

    result = run(host.args('restored'))

    assert result.failed
    assert result['msg'].startswith('restoring %s from the snapshot in %s failed: ' % (host.unit, host.snapshot))
    # Only what was really put back before the failure.
    assert result['restored'] == [str(host.settings_link), str(host.local_settings)]
    assert host.settings_target.read_bytes() == SETTINGS
    assert not host.local_settings.exists()


# --- absent -----------------------------------------------------------------------------------------

def test_absent_removes_the_snapshot(host, run):
    run(host.args())

    result = run(host.args('absent'))

    assert result['changed'] is True
    assert not host.snapshot.exists()
    assert host.unit.read_bytes() == UNIT


def test_absent_without_a_snapshot_is_a_no_op(host, run):
    result = run(host.args('absent'))

    assert not result.failed
    assert result['changed'] is False


def test_absent_in_check_mode_keeps_the_snapshot(host, run):
    run(host.args())

    result = run(host.args('absent'), check_mode=True)

    assert result['changed'] is True
    assert (host.snapshot / 'manifest.json').is_file()


# --- links: the CLI's symbolic link ------------------------------------------------------------------

OLD_CLI = b'\x7fELF claude 2.1.300'
NEW_CLI = b'\x7fELF claude 2.1.328'


class CliHost(Host):
    """The same configuration plus the CLI as the claude_code role installs it: a link into versioned installs."""

    def __init__(self, root):
        super(CliHost, self).__init__(root)
        self.installs = root / 'opt' / 'jada' / 'lib' / 'claude-code'
        self.old_binary = write_file(self.installs / '2.1.300-linux-x64' / 'claude', OLD_CLI, 0o755)
        self.new_binary = write_file(self.installs / '2.1.328-linux-x64' / 'claude', NEW_CLI, 0o755)
        self.cli = root / 'opt' / 'jada' / 'bin' / 'claude'
        self.cli.parent.mkdir(parents=True)
        self.old_target = os.path.join('..', 'lib', 'claude-code', '2.1.300-linux-x64', 'claude')
        self.cli.symlink_to(self.old_target)

    def args(self, state='present', **extra):
        extra.setdefault('links', [str(self.cli)])
        return super(CliHost, self).args(state, **extra)

    def switch(self, target):
        """What ansible.builtin.file state=link force=true does: a new link renamed over the old one."""
        temporary = self.cli.parent / '.claude.tmp'
        os.symlink(str(target), str(temporary))
        os.rename(str(temporary), str(self.cli))

    def installed(self):
        return dict((str(path), path.read_bytes()) for path in (self.old_binary, self.new_binary))


@pytest.fixture
def cli_host(tmp_path):
    return CliHost(tmp_path)


def test_present_records_a_link_with_its_target_and_copies_nothing_behind_it(cli_host, run):
    result = run(cli_host.args())

    assert result['files'][-1] == {'path': str(cli_host.cli), 'real_path': str(cli_host.cli), 'existed': True,
                                   'link': cli_host.old_target}
    manifest = json.loads((cli_host.snapshot / 'manifest.json').read_text())
    assert 'copy' not in manifest['entries'][-1]
    # The copies of the settings, the unit and the drop-in; none of the binary.
    assert sorted(os.listdir(str(cli_host.snapshot))) == ['000', '002', '003', 'manifest.json', 'phase.json']


def test_files_entries_keep_their_shape_beside_links(cli_host, run):
    result = run(cli_host.args())

    assert [sorted(entry) for entry in result['files'][:-1]] == [['existed', 'path', 'real_path']] * 4


def rollout_replacing_the_link_with_a_link(host):
    host.switch(host.new_binary)


def rollout_replacing_the_link_with_a_file(host):
    host.cli.unlink()
    write_file(host.cli, NEW_CLI, 0o700)


def rollout_removing_the_link(host):
    host.cli.unlink()


def rollout_removing_the_whole_directory(host):
    host.cli.unlink()
    host.cli.parent.rmdir()


@pytest.mark.parametrize('rollout', [rollout_replacing_the_link_with_a_link, rollout_replacing_the_link_with_a_file,
                                     rollout_removing_the_link, rollout_removing_the_whole_directory])
def test_restore_puts_the_same_link_back(cli_host, run, rollout):
    run(cli_host.args())
    rollout(cli_host)

    result = run(cli_host.args('restored'))

    assert not result.failed, result.get('msg')
    assert result['restored'] == [str(cli_host.cli)]
    assert result['files'][-1] == {'path': str(cli_host.cli), 'existed': True, 'action': 'linked'}
    assert cli_host.cli.is_symlink()
    assert os.readlink(str(cli_host.cli)) == cli_host.old_target
    assert cli_host.cli.read_bytes() == OLD_CLI
    assert cli_host.installed() == {str(cli_host.old_binary): OLD_CLI, str(cli_host.new_binary): NEW_CLI}
    assert [name for name in os.listdir(str(cli_host.cli.parent)) if name.startswith('.')] == []


def test_restore_of_an_absolute_link(cli_host, run):
    cli_host.switch(cli_host.old_binary)
    run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    run(cli_host.args('restored'))

    assert os.readlink(str(cli_host.cli)) == str(cli_host.old_binary)


def test_restore_keeps_a_dangling_link_dangling(cli_host, run):
    gone = os.path.join('..', 'lib', 'claude-code', '2.1.100-linux-x64', 'claude')
    cli_host.switch(gone)
    result = run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    run(cli_host.args('restored'))

    assert result['files'][-1]['existed'] is True
    assert os.readlink(str(cli_host.cli)) == gone
    assert not cli_host.cli.exists()


def test_restore_removes_a_link_that_did_not_exist(cli_host, run):
    cli_host.cli.unlink()
    present = run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    result = run(cli_host.args('restored'))

    assert present['files'][-1] == {'path': str(cli_host.cli), 'real_path': str(cli_host.cli), 'existed': False, 'link': None}
    assert result['files'][-1] == {'path': str(cli_host.cli), 'existed': False, 'action': 'removed'}
    assert not os.path.lexists(str(cli_host.cli))
    assert cli_host.new_binary.read_bytes() == NEW_CLI


def test_a_regular_file_in_links_comes_back_in_place_of_the_link(cli_host, run):
    # Before the role's first run the CLI was a plain binary at the path itself.
    cli_host.cli.unlink()
    write_file(cli_host.cli, OLD_CLI, 0o750)
    present = run(cli_host.args())
    rollout_replacing_the_link_with_a_link(cli_host)

    result = run(cli_host.args('restored'))

    assert present['files'][-1]['link'] is None
    assert result['files'][-1] == {'path': str(cli_host.cli), 'existed': True, 'action': 'written'}
    assert not cli_host.cli.is_symlink()
    assert cli_host.cli.read_bytes() == OLD_CLI
    assert mode_of(cli_host.cli) == 0o750
    assert cli_host.new_binary.read_bytes() == NEW_CLI


def test_a_regular_file_in_links_is_not_unchanged_behind_a_link_to_the_same_bytes(cli_host, run):
    cli_host.cli.unlink()
    write_file(cli_host.cli, NEW_CLI, 0o755)
    run(cli_host.args())
    cli_host.cli.unlink()
    cli_host.cli.symlink_to(cli_host.new_binary)

    result = run(cli_host.args('restored'))

    assert result['restored'] == [str(cli_host.cli)]
    assert not cli_host.cli.is_symlink()


def test_files_still_write_through_links_beside_links(cli_host, run):
    run(cli_host.args())
    cli_host.rollout()
    cli_host.switch(cli_host.new_binary)

    result = run(cli_host.args('restored'))

    assert sorted(result['restored']) == sorted([
        str(cli_host.settings_link), str(cli_host.local_settings), str(cli_host.unit), str(cli_host.env_dropin),
        str(cli_host.new_dropin), str(cli_host.cli)])
    assert cli_host.settings_link.is_symlink()
    assert cli_host.settings_target.read_bytes() == SETTINGS
    assert os.readlink(str(cli_host.cli)) == cli_host.old_target


def test_a_path_in_files_and_links_is_kept_as_a_link_once(cli_host, run):
    result = run(cli_host.args(files=[str(cli_host.cli)], directories=[], links=[str(cli_host.cli), str(cli_host.cli)]))

    assert result['files'] == [{'path': str(cli_host.cli), 'real_path': str(cli_host.cli), 'existed': True,
                                'link': cli_host.old_target}]


def test_a_link_in_a_linked_directory_is_restored_where_it_lives(cli_host, run):
    # /opt/jada/bin is itself a link to another directory: the link lives in that directory.
    real_bin = cli_host.root / 'data' / 'bin'
    real_bin.parent.mkdir()
    os.rename(str(cli_host.cli.parent), str(real_bin))
    cli_host.cli.parent.symlink_to(real_bin)
    present = run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    run(cli_host.args('restored'))

    assert present['files'][-1]['real_path'] == str(real_bin / 'claude')
    assert cli_host.cli.parent.is_symlink()
    assert os.readlink(str(real_bin / 'claude')) == cli_host.old_target


def test_restore_of_links_is_idempotent(cli_host, run):
    run(cli_host.args())
    cli_host.switch(cli_host.new_binary)
    run(cli_host.args('restored'))
    inode = os.lstat(str(cli_host.cli)).st_ino

    second = run(cli_host.args('restored'))

    assert (second['changed'], second['restored']) == (False, [])
    assert os.lstat(str(cli_host.cli)).st_ino == inode


def test_restore_of_links_in_check_mode_changes_nothing(cli_host, run):
    run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    result = run(cli_host.args('restored'), check_mode=True)

    assert (result['changed'], result['restored']) == (True, [str(cli_host.cli)])
    assert os.readlink(str(cli_host.cli)) == str(cli_host.new_binary)


def test_present_in_check_mode_with_links_writes_nothing(cli_host, run):
    result = run(cli_host.args(), check_mode=True)

    assert result['files'][-1]['link'] == cli_host.old_target
    assert not cli_host.snapshot.parent.exists()


def test_a_directory_in_links_fails_before_any_snapshot(cli_host, run):
    result = run(cli_host.args(links=[str(cli_host.installs)]))

    assert result.failed
    assert result['msg'] == ('%s is neither a regular file nor a symbolic link; only those can be kept; '
                             'no snapshot was taken' % cli_host.installs)
    assert not cli_host.snapshot.parent.exists()


def test_restore_fails_naming_the_link_when_a_directory_took_its_place(cli_host, run):
    run(cli_host.args())
    cli_host.cli.unlink()
    cli_host.cli.mkdir()
    (cli_host.cli / 'claude').write_bytes(NEW_CLI)

    result = run(cli_host.args('restored'))

    assert result.failed
    assert result['msg'].startswith('restoring %s from the snapshot in %s failed: ' % (cli_host.cli, cli_host.snapshot))
    assert [name for name in os.listdir(str(cli_host.cli.parent)) if name.startswith('.')] == []


@needs_root
def test_restore_puts_back_the_owner_of_the_link(cli_host, run):
    os.lchown(str(cli_host.cli), *OWNER)
    run(cli_host.args())
    cli_host.switch(cli_host.new_binary)

    run(cli_host.args('restored'))

    status = os.lstat(str(cli_host.cli))
    assert (status.st_uid, status.st_gid) == OWNER
    # The link's own owner, not its target's.
    assert owner_of(cli_host.old_binary) == (0, 0)


@needs_root
def test_a_link_with_another_owner_is_not_unchanged(cli_host, run):
    os.lchown(str(cli_host.cli), *OWNER)
    run(cli_host.args())
    os.lchown(str(cli_host.cli), 0, 0)

    result = run(cli_host.args('restored'))

    assert result['restored'] == [str(cli_host.cli)]
    assert (os.lstat(str(cli_host.cli)).st_uid, os.lstat(str(cli_host.cli)).st_gid) == OWNER
