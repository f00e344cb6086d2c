# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a module's main() in-process and stand in for what a test host cannot provide.

* ``run_module`` feeds the arguments with ansible-core's ``patch_module_args``, lets the real
  ``exit_json``/``fail_json`` print, and returns the result the controller would read; every module
  test uses it.
* ``FakeCommands`` replaces ``AnsibleModule.run_command`` for ``systemctl`` and ``journalctl``.
* ``FakeProc`` is a procfs tree in a temporary directory for ``agent_host.PROC``.
* Realistic host output: ``systemctl show`` of systemd 252, ``/proc/<pid>/limits`` of Linux,
  ``journalctl --output json`` lines.
"""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

try:
    from ansible.module_utils import _internal as module_utils_internal
except ImportError:
    # ansible-core before 2.19 has no controller mode for module_utils.
    module_utils_internal = None


class ModuleResult(dict):
    """The module's result as the controller reads it (its stdout JSON), plus ``raw``, ``failed``, ``exit_code``."""

    def __init__(self, raw, exit_code):
        super(ModuleResult, self).__init__(json.loads(raw))
        self.raw = raw
        self.text = raw
        self.exit_code = exit_code

    @property
    def failed(self):
        return bool(self.get('failed'))

    @property
    def warnings(self):
        # ansible-core 2.19 reports warnings as dicts; older versions as strings.
        return [item if isinstance(item, str) else item['event']['msg'] for item in self.get('warnings', [])]


def _clear_warnings():
    # ansible-core keeps warnings in module-global storage; in-process runs would accumulate them.
    for name in ('_global_warnings', '_global_deprecations'):
        store = getattr(ansible_warnings, name, None)
        if store is not None:
            store.clear()


def run_module(main, args, capsys, check_mode=False, diff=False):
    """Run a module's ``main()`` in-process with ``args``, as Ansible would, and return its ModuleResult.

    The real exit_json/fail_json run, so the result is what a controller would receive, no_log masking included.
    """
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    _clear_warnings()
    capsys.readouterr()
    # A test module that imports controller code (a filter or action plugin) puts the whole process in controller
    # mode, where warnings go to the display instead of the result; a module runs on a target, never so.
    was_controller = getattr(module_utils_internal, 'is_controller', False)
    if module_utils_internal is not None:
        module_utils_internal.is_controller = False
    try:
        with patch_module_args(args):
            with pytest.raises(SystemExit) as caught:
                main()
    finally:
        if module_utils_internal is not None:
            module_utils_internal.is_controller = was_controller
        _clear_warnings()
    return ModuleResult(capsys.readouterr().out, caught.value.code)


class FakeCommands(object):
    """Stands in for AnsibleModule.run_command: answers by program name and records every argv.

    A handler is a (rc, stdout, stderr) tuple or a callable taking the argv and returning one.
    Any program without a handler fails the test: the module must not run anything unexpected.
    """

    def __init__(self, monkeypatch):
        self.calls = []
        self.handlers = {}
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', self._run_command)

    def on(self, program, handler):
        self.handlers[program] = handler
        return self

    def _run_command(self, *args, **kwargs):
        # Set on the class without being a function, so it is not bound: args[0] is the argv.
        argv = list(args[0])
        self.calls.append(argv)
        if argv[0] not in self.handlers:
            raise AssertionError('unexpected command: %r' % (argv,))
        handler = self.handlers[argv[0]]
        return handler(argv) if callable(handler) else handler

    def called(self, program):
        return [argv for argv in self.calls if argv[0] == program]


# --- systemctl show ---------------------------------------------------------------------------------

# ExecStart= of systemd 252 for a running Type=simple service (argv[] is joined with spaces, unquoted).
EXEC_START = ('{ path=/opt/jada/bin/claude ; argv[]=/opt/jada/bin/claude --dangerously-skip-permissions '
              '; ignore_errors=no ; start_time=[Sun 2026-11-22 08:32:30 UTC] ; stop_time=[n/a] ; pid=812 '
              '; code=(null) ; status=0/0 }')


def running_service(**overrides):
    """Properties of ``systemctl show jada-agent.service`` (systemd 252) for the running agent.

    A list value is printed as one line per element, as systemctl does for EnvironmentFiles= and
    for several ExecStart= commands.
    """
    properties = {
        'Type': 'simple',
        'ExitType': 'main',
        'Restart': 'on-failure',
        'NotifyAccess': 'none',
        'RestartUSec': '5s',
        'TimeoutStartUSec': '1min 30s',
        'TimeoutStopUSec': '1min 30s',
        'RuntimeMaxUSec': 'infinity',
        'WatchdogUSec': '0',
        'WatchdogTimestampMonotonic': '0',
        'PermissionsStartOnly': 'no',
        'RootDirectoryStartOnly': 'no',
        'RemainAfterExit': 'no',
        'GuessMainPID': 'yes',
        'MainPID': '812',
        'ControlPID': '0',
        'FileDescriptorStoreMax': '0',
        'NFileDescriptorStore': '0',
        'StatusErrno': '0',
        'Result': 'success',
        'ReloadResult': 'success',
        'CleanResult': 'success',
        'UID': '[not set]',
        'GID': '[not set]',
        'NRestarts': '0',
        'OOMPolicy': 'stop',
        'ExecMainStartTimestamp': 'Sun 2026-11-22 08:32:30 UTC',
        'ExecMainStartTimestampMonotonic': '52791634',
        'ExecMainExitTimestampMonotonic': '0',
        'ExecMainPID': '812',
        'ExecMainCode': '0',
        'ExecMainStatus': '0',
        'ExecStart': EXEC_START,
        'ExecStartEx': EXEC_START.replace('ignore_errors=no', 'flags='),
        'Slice': 'system.slice',
        'ControlGroup': '/system.slice/jada-agent.service',
        'MemoryCurrent': '48263168',
        'TasksCurrent': '11',
        'Delegate': 'no',
        'CPUAccounting': 'yes',
        'Environment': 'HOME=/var/lib/jada "JADA_GREETING=hello world"',
        'EnvironmentFiles': [],
        'UMask': '0022',
        'LimitCPU': 'infinity',
        'LimitCPUSoft': 'infinity',
        'LimitNOFILE': '65536',
        'LimitNOFILESoft': '65536',
        'LimitNPROC': '15380',
        'LimitNPROCSoft': '15380',
        'WorkingDirectory': '/srv/jada/orchestrator',
        'User': 'jada',
        'Group': 'jada',
        'KillMode': 'control-group',
        'KillSignal': '15',
        'Id': 'jada-agent.service',
        'Names': 'jada-agent.service',
        'Requires': 'system.slice sysinit.target network-online.target',
        'Wants': 'network-online.target',
        'WantedBy': 'multi-user.target',
        'After': 'network-online.target systemd-journald.socket sysinit.target basic.target system.slice',
        'Description': 'Jada agent orchestrator (Claude Code)',
        'LoadState': 'loaded',
        'ActiveState': 'active',
        'FreezerState': 'running',
        'SubState': 'running',
        'FragmentPath': '/etc/systemd/system/jada-agent.service',
        'DropInPaths': '/etc/systemd/system/jada-agent.service.d/50-limits.conf',
        'UnitFileState': 'enabled',
        'UnitFilePreset': 'enabled',
        'StateChangeTimestamp': 'Sun 2026-11-22 08:32:30 UTC',
        'StateChangeTimestampMonotonic': '52791950',
        'InactiveExitTimestamp': 'Sun 2026-11-22 08:32:30 UTC',
        'InactiveExitTimestampMonotonic': '52791634',
        'ActiveEnterTimestamp': 'Sun 2026-11-22 08:32:30 UTC',
        'ActiveEnterTimestampMonotonic': '52791950',
        'ActiveExitTimestampMonotonic': '0',
        'InactiveEnterTimestampMonotonic': '0',
        'CanStart': 'yes',
        'CanStop': 'yes',
        'CanReload': 'no',
        'NeedDaemonReload': 'no',
        'JobTimeoutUSec': 'infinity',
        'ConditionResult': 'yes',
        'AssertResult': 'yes',
        'ConditionTimestamp': 'Sun 2026-11-22 08:32:30 UTC',
        'ConditionTimestampMonotonic': '52790921',
        'InvocationID': '3f6c1f0e2a8b4d59a1c7e2b3d4f50617',
        'CollectMode': 'inactive',
    }
    properties.update(overrides)
    return properties


def stopped_service(**overrides):
    """The same unit after its main process died and systemd gave up (failed, no PID)."""
    properties = running_service(
        MainPID='0', ExecMainPID='812', ExecMainCode='1', ExecMainStatus='1', Result='exit-code',
        ActiveState='failed', SubState='failed', TasksCurrent='[not set]', MemoryCurrent='[not set]',
        ExecStart=EXEC_START.replace('stop_time=[n/a]', 'stop_time=[Sun 2026-11-22 08:32:31 UTC]')
        .replace('code=(null) ; status=0/0', 'code=exited ; status=1/FAILURE'))
    properties.update(overrides)
    return properties


def format_show(properties, requested=None):
    """``systemctl show`` text: ``Key=value`` lines, only the requested properties when given."""
    lines = []
    for key, value in properties.items():
        if requested is not None and key not in requested:
            continue
        for item in value if isinstance(value, list) else [value]:
            lines.append('%s=%s' % (key, item))
    return '\n'.join(lines) + '\n'


def systemctl_answering(state):
    """A run_command handler for ``systemctl show UNIT --property A,B``; ``state['show']`` is read at each call.

    Tests change ``state['show']`` (for example from a fake sleep) to simulate what happens meanwhile.
    """

    def handler(argv):
        assert argv[1] == 'show', argv
        requested = None
        if '--property' in argv:
            requested = set(argv[argv.index('--property') + 1].split(','))
        return 0, format_show(state['show'], requested), ''

    return handler


# --- /proc ------------------------------------------------------------------------------------------

def proc_limits_text(nofile=(65536, 65536), nproc=(15380, 15380)):
    """/proc/<pid>/limits as Linux 6.1 prints it (fixed-width columns, trailing blanks)."""
    rows = [
        ('Limit', 'Soft Limit', 'Hard Limit', 'Units'),
        ('Max cpu time', 'unlimited', 'unlimited', 'seconds'),
        ('Max file size', 'unlimited', 'unlimited', 'bytes'),
        ('Max data size', 'unlimited', 'unlimited', 'bytes'),
        ('Max stack size', '8388608', 'unlimited', 'bytes'),
        ('Max core file size', '0', 'unlimited', 'bytes'),
        ('Max resident set', 'unlimited', 'unlimited', 'bytes'),
        ('Max processes', str(nproc[0]), str(nproc[1]), 'processes'),
        ('Max open files', str(nofile[0]), str(nofile[1]), 'files'),
        ('Max locked memory', '8388608', '8388608', 'bytes'),
        ('Max address space', 'unlimited', 'unlimited', 'bytes'),
        ('Max file locks', 'unlimited', 'unlimited', 'locks'),
        ('Max pending signals', '15380', '15380', 'signals'),
        ('Max msgqueue size', '819200', '819200', 'bytes'),
        ('Max nice priority', '0', '0', ''),
        ('Max realtime priority', '0', '0', ''),
        ('Max realtime timeout', 'unlimited', 'unlimited', 'us'),
    ]
    return ''.join('%-25s %-20s %-20s %-10s\n' % row for row in rows)


BOOT_ID = 'a3b26796-fa05-4ca2-b809-fee218172253'
JOURNAL_BOOT_ID = BOOT_ID.replace('-', '')


class FakeProc(object):
    """A procfs tree in a directory: process limits, fs.nr_open, fs.file-max, the boot id."""

    def __init__(self, root, nr_open=1048576, file_max=9223372036854775807, manager_nofile=(1048576, 1048576)):
        self.root = str(root)
        self.write(os.path.join('sys', 'fs', 'nr_open'), '%d\n' % nr_open)
        self.write(os.path.join('sys', 'fs', 'file-max'), '%d\n' % file_max)
        self.write(os.path.join('sys', 'kernel', 'random', 'boot_id'), BOOT_ID + '\n')
        self.process(1, nofile=manager_nofile)

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, 'w') as handle:
            handle.write(text)

    def process(self, pid, nofile=(65536, 65536)):
        """A live process with the given RLIMIT_NOFILE."""
        self.write(os.path.join(str(pid), 'limits'), proc_limits_text(nofile=nofile))

    def set_nofile(self, pid, nofile):
        self.process(pid, nofile=nofile)


# --- journalctl --output json -----------------------------------------------------------------------

def journal_line(message, monotonic, boot_id=JOURNAL_BOOT_ID, pid='812', transport='stdout'):
    """One line of ``journalctl --unit jada-agent.service --output json`` (a message from the agent)."""
    realtime = 1795336350000000 + int(monotonic)
    entry = {
        '__CURSOR': 's=0c0e4b5d8a3f4a51b0fa7d1f6c3e2b10;i=1b7f;b=%s;m=%x;t=%x;x=4d2c1e0f9a8b7c6d'
                    % (boot_id, int(monotonic), realtime),
        '__REALTIME_TIMESTAMP': str(realtime),
        '__MONOTONIC_TIMESTAMP': str(monotonic),
        '_BOOT_ID': boot_id,
        'PRIORITY': '6',
        'SYSLOG_FACILITY': '3',
        '_UID': '1001',
        '_GID': '1001',
        '_CAP_EFFECTIVE': '0',
        '_SELINUX_CONTEXT': 'unconfined\n',
        '_MACHINE_ID': '5e2f0c6a9b8d4e7f8a1b2c3d4e5f6a7b',
        '_HOSTNAME': 'orch-1',
        '_TRANSPORT': transport,
        '_STREAM_ID': '1d2c3b4a59687766554433221100ffee',
        'SYSLOG_IDENTIFIER': 'claude',
        '_PID': pid,
        '_COMM': 'claude',
        '_EXE': '/opt/jada/bin/claude',
        '_CMDLINE': '/opt/jada/bin/claude --dangerously-skip-permissions',
        '_SYSTEMD_CGROUP': '/system.slice/jada-agent.service',
        '_SYSTEMD_UNIT': 'jada-agent.service',
        '_SYSTEMD_SLICE': 'system.slice',
        '_SYSTEMD_INVOCATION_ID': '3f6c1f0e2a8b4d59a1c7e2b3d4f50617',
        'MESSAGE': message,
    }
    return json.dumps(entry, separators=(',', ':'))


def as_journal_bytes(text):
    """MESSAGE as journalctl writes a non-printable (e.g. ANSI-coloured) message: a list of byte values."""
    return list(bytearray(text.encode('utf-8')))


def write_file(path, data, mode=0o644):
    """Write ``data`` (text or bytes) to ``path`` (a pathlib.Path), its directories first, with ``mode``."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    os.chmod(str(path), mode)
    return path
