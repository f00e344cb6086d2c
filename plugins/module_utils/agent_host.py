# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading the state of an orchestrator host: its systemd service, the agent's process and the kernel.

Pure parsers take text and return data; the few functions that touch the host take a module for
run_command. Nothing here returns file content: settings and environment files hold secrets.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
import pwd
import re
import threading
import time

from ansible_collections.jada.agent.plugins.module_utils import model_resolution
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import (
    SettingsError,
    decode,
    read_model,
)

# Linux refuses any RLIMIT_NOFILE or fs.nr_open above this (sysctl_nr_open_max on 64-bit kernels).
NR_OPEN_CEILING = 2147483584

# A journal line of the agent that means it failed: what the verification after a restart refuses, and what
# status shows. The CLI's own lines are plain text on stderr.
FAILURE_PATTERN = r'(?i)(\b|[a-z])(error|fatal|panic|failed)\b|\btraceback\b|invalid settings'
# systemd's own account of why a start failed: "Main process exited, code=exited, status=217/USER",
# "Failed at step USER spawning ...", "Failed to set up ...". The service's own output does not match these.
SYSTEMD_CAUSE = re.compile(r'\bstatus=\d+/\w+|\bFailed at step \w+|\bFailed to ')

# Every npm package that ships the Claude Code CLI: the wrapper and the per-platform native binaries.
CLI_PACKAGE_PREFIX = '@anthropic-ai/claude-code'

# Mount point of procfs; every /proc path below is built from it at call time (tests point it elsewhere).
PROC = '/proc'

SHOW_PROPERTIES = (
    'LoadState', 'ActiveState', 'SubState', 'MainPID', 'NRestarts', 'ActiveEnterTimestamp',
    'ActiveEnterTimestampMonotonic', 'UnitFileState', 'ExecStart', 'Environment', 'EnvironmentFiles',
    'LimitNOFILE', 'LimitNOFILESoft', 'FragmentPath', 'DropInPaths', 'NeedDaemonReload', 'Result',
    'WorkingDirectory', 'User', 'ExecMainStartTimestampMonotonic',
)
# The clocks compared are read microseconds apart; a change this close to the start cannot be told apart.
CHANGE_TOLERANCE = 0.05
# Read again at the end of a read: a crash-looping agent shows "active" in some samples, never a stable count.
LOOP_PROPERTIES = ('ActiveState', 'SubState', 'NRestarts', 'MainPID')
# Seconds between the two samples of an agent that restarted by itself before: longer than the default RestartSec
# (100 ms) plus a crash of the CLI at start.
LOOP_WINDOW = 1.5

_ARGV = re.compile(r'argv\[\]=(.*?) ;')
_ENV_FILE = re.compile(r'(\S+) \(ignore_errors=(?:yes|no)\)')
# One word of a string list as systemctl show prints it: bare, or double-quoted with backslash escapes.
_SHOW_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|([^ \t\r\n"]+)')
_SHOW_ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{2}|.)')
_C_ESCAPES = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}
# Colours and other terminal control sequences (ANSI CSI), which would hide a word from a \b pattern.
_ANSI_CSI = re.compile(r'\x1b\[[0-?]*[ -/]*[@-~]')
_CLI_VERSION = re.compile(r'^\s*([0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)\s+\(Claude Code\)\s*$', re.MULTILINE)


def parse_show(text):
    """Parse ``systemctl show`` output (``Key=value`` lines) into a dict of strings.

    systemctl prints one line per element of some properties (each ``EnvironmentFiles=`` file, each
    ``ExecStart=`` command); the values of a repeated key are joined with a space, in order.
    """
    properties = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            properties[key] = properties[key] + ' ' + value if key in properties else value
    return properties


def exec_start_argv(value):
    """The argv of the first ExecStart= of a ``systemctl show`` ExecStart value, or [].

    systemctl joins the arguments with spaces without quoting them, so quotes in it are literal text.
    """
    match = _ARGV.search(value or '')
    if not match:
        return []
    return match.group(1).split()


def _unescape_show(match):
    escaped = match.group(1)
    if len(escaped) == 3:
        return chr(int(escaped[1:], 16))
    return _C_ESCAPES.get(escaped, escaped)


def parse_environment(value):
    """Parse a ``systemctl show -p Environment`` value into a dict.

    systemctl prints the assignments separated by spaces and puts one that needs it in double quotes,
    escaping ``"``, ``\\``, a backtick and ``$`` with a backslash and control characters C-style.
    """
    words = []
    for match in _SHOW_WORD.finditer(value or ''):
        if match.group(2) is not None:
            words.append(match.group(2))
        else:
            words.append(_SHOW_ESCAPE.sub(_unescape_show, match.group(1)))
    return dict(word.split('=', 1) for word in words if '=' in word)


def environment_files(value):
    """The paths of a ``systemctl show -p EnvironmentFiles`` value."""
    return _ENV_FILE.findall(value or '')


def parse_env_file_values(text, keys):
    """{key: value} of those of ``keys`` an EnvironmentFile text assigns; no other value is ever returned.

    As systemd reads it: the last assignment wins, lines starting with ``#`` or ``;`` are comments,
    one pair of surrounding quotes is removed, and ``export KEY=value`` is not an assignment of KEY.
    """
    found = {}
    for line in text.splitlines():
        line = line.strip()
        name, sep, value = line.partition('=')
        if sep and name.strip() in keys:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
                value = value[1:-1]
            found[name.strip()] = value
    return found


def parse_limits(text):
    """Parse /proc/<pid>/limits into {'nofile': (soft, hard), ...}; 'unlimited' stays a string."""
    names = {'Max open files': 'nofile', 'Max processes': 'nproc'}
    limits = {}
    for line in text.splitlines():
        for label, name in names.items():
            if line.startswith(label):
                soft, hard = line[len(label):].split()[:2]
                limits[name] = tuple(int(v) if v.isdigit() else v for v in (soft, hard))
    return limits


def systemd_limit(value):
    """A LimitNOFILE value of ``systemctl show`` as an int, or 'infinity'."""
    if value is None or value == '':
        return None
    if value == 'infinity' or value == str(2 ** 64 - 1):
        return 'infinity'
    return int(value) if value.isdigit() else value


def proc_path(*parts):
    """A path under procfs, e.g. ``proc_path('sys', 'fs', 'nr_open')``."""
    return os.path.join(PROC, *[str(part) for part in parts])


def read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return None


def file_sha256(path):
    """sha256 of a file's bytes, or None when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (IOError, OSError):
        return None


def dropin_digests(directory):
    """{file name: sha256} of the *.conf drop-ins of a unit."""
    return dict((os.path.basename(path), file_sha256(path))
                for path in sorted(glob.glob(os.path.join(directory, '*.conf'))))


def settings_model(path):
    """Describe the model of one settings file without ever returning its content.

    ``path`` is reported as given; ``~`` and ``~user`` expand on the host.
    """
    real_path = os.path.realpath(os.path.expanduser(path))
    result = {'path': path, 'real_path': real_path, 'exists': os.path.exists(real_path), 'model': None, 'error': None}
    if not result['exists']:
        return result
    try:
        with open(real_path, 'rb') as handle:
            result['model'] = read_model(decode(handle.read()))
    except SettingsError as exc:
        result['error'] = exc.describe(path)
    except (IOError, OSError) as exc:
        result['error'] = '%s: cannot be read: %s' % (path, exc.strerror or exc)
    return result


def unit_environment_layers(show, service):
    """The model-related part of the unit's environment, [(label, {name: value})] in the order systemd applies it.

    Environment= first, then each EnvironmentFile= in order (systemd: a file overrides Environment=, a later file an
    earlier one). Only model_resolution.PLAN_VARIABLES are read out; a missing or unreadable file adds nothing.
    """
    names = model_resolution.PLAN_VARIABLES
    layers = [('the environment of %s' % service, model_resolution.model_environment(parse_environment(show.get('Environment')), names))]
    for path in environment_files(show.get('EnvironmentFiles')):
        path = path.lstrip('-')
        try:
            with open(path) as handle:
                values = parse_env_file_values(handle.read(), names)
        except (IOError, OSError, UnicodeDecodeError):
            continue
        layers.append(('%s (EnvironmentFile of %s)' % (path, service), values))
    return layers


def unit_home(show, environment):
    """The HOME the agent gets: its unit's HOME=, else the home of User= (root without one)."""
    if environment.get('HOME'):
        return environment['HOME']
    user = show.get('User') or 'root'
    try:
        return pwd.getpwnam(user).pw_dir
    except KeyError:
        return '/root' if user == 'root' else os.path.join('/home', user)


def unit_working_directory(show, home):
    """The agent's working directory: WorkingDirectory= (``-`` prefix dropped, ``~`` is HOME), else /."""
    value = (show.get('WorkingDirectory') or '').lstrip('-')
    if value == '~':
        return home
    return value or '/'


def read_settings_source(scope, path):
    """One settings source for model_resolution: its text, or why it cannot be read; the text never leaves the host."""
    real_path = os.path.realpath(path)
    source = {'scope': scope, 'path': real_path, 'text': None, 'error': None}
    if not os.path.exists(real_path):
        return source
    try:
        with open(real_path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        source['error'] = 'cannot be read: %s' % (exc.strerror or exc)
        return source
    # The CLI accepts a UTF-8 byte order mark; decode() rejects it for the files this collection edits.
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    try:
        source['text'] = decode(data)
    except SettingsError as exc:
        source['error'] = str(exc)
    return source


def model_sources(show, service, managed_dir, argv=None, layers=None):
    """(argv, environment layers, settings sources) of a unit, read from the host for model_resolution.resolve.

    ``argv`` and ``layers`` stand for the unit's own when the question is about a unit not yet installed.
    """
    argv = exec_start_argv(show.get('ExecStart')) if argv is None else argv
    layers = unit_environment_layers(show, service) if layers is None else layers
    environment = model_resolution.merge_layers(layers, model_resolution.PLAN_VARIABLES)[0]
    home = unit_home(show, environment)
    working_directory = unit_working_directory(show, home)
    sources = []
    for entry in model_resolution.source_plan(argv, environment, working_directory, home, managed_dir):
        if entry['scope'] == 'managed-dropins':
            for path in sorted(glob.glob(os.path.join(glob.escape(entry['path']), '*.json'))):
                sources.append(read_settings_source('managed', path))
        elif 'text' in entry:
            sources.append(dict(entry, error=None))
        else:
            sources.append(read_settings_source(entry['scope'], entry['path']))
    return argv, layers, sources


def systemctl_show(module, unit, properties=SHOW_PROPERTIES):
    rc, out, err = module.run_command(['systemctl', 'show', unit, '--property', ','.join(properties)])
    if rc != 0:
        module.fail_json(msg='systemctl show %s failed: %s' % (unit, err.strip() or out.strip()), rc=rc)
    return parse_show(out)


def restart_loop(first, second):
    """Whether two ``systemctl show`` samples of a unit, taken in order, show it restarting by itself."""
    def restarts(show):
        value = show.get('NRestarts', '')
        return int(value) if value.isdigit() else 0

    return restarts(second) > restarts(first) or any(show.get('SubState') == 'auto-restart' for show in (first, second))


def wall_clock_of_monotonic_zero():
    """Wall-clock time at which CLOCK_MONOTONIC was 0, to compare systemd's monotonic times with file times."""
    return time.time() - time.monotonic()


def changed_after(paths, since_monotonic_usec, offset):
    """The paths whose last change (ctime of the path or, for a link, of its target) came after a monotonic time."""
    since = since_monotonic_usec / 1e6 + offset
    changed = []
    for path in paths:
        times = []
        for stat in (os.lstat, os.stat):
            try:
                times.append(stat(path).st_ctime)
            except (IOError, OSError):
                continue
        if times and max(times) > since + CHANGE_TOLERANCE and path not in changed:
            changed.append(path)
    return changed


def answered_before(timestamp, wall_clock):
    """Whether an ISO 8601 UTC timestamp of the CLI's output (2026-11-30T08:51:23.123Z) is before a wall-clock time;
    None when it cannot be read."""
    if not isinstance(timestamp, str):
        return None
    text = timestamp.strip().replace('Z', '+00:00')
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp() < wall_clock


def process_limits(pid):
    """The limits of a running process, or {} when it is gone."""
    if not pid or str(pid) == '0':
        return {}
    try:
        with open(proc_path(pid, 'limits')) as handle:
            return parse_limits(handle.read())
    except (IOError, OSError):
        return {}


def pid_alive(pid):
    return bool(pid) and str(pid) != '0' and os.path.exists(proc_path(pid))


def journal_entries_after(text, since_monotonic, boot_id):
    """Messages of ``journalctl -o json`` lines logged at or after a monotonic time of this boot.

    journalctl's --since has one-second resolution, which lets the last lines of the previous run in;
    the monotonic clock tells a restart from a crash within the same second. Terminal colour sequences
    are removed from the messages.
    """
    messages = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if boot_id and entry.get('_BOOT_ID', boot_id) != boot_id:
            continue
        if int(entry.get('__MONOTONIC_TIMESTAMP') or 0) < since_monotonic:
            continue
        message = entry.get('MESSAGE')
        if isinstance(message, list):
            message = bytes(message).decode('utf-8', 'replace')
        message = _ANSI_CSI.sub('', message or '')
        if message:
            messages.append(message)
    return messages


def systemd_causes(messages, keep=3):
    """The last distinct lines of ``messages`` in which systemd says why the unit did not start or run."""
    causes = []
    for message in messages:
        if SYSTEMD_CAUSE.search(message) and message not in causes:
            causes.append(message[:300])
    return causes[-keep:]


def journal_since(module, unit, since_text, since_monotonic):
    """Journal messages of a unit since it started (wall-clock text plus its monotonic timestamp)."""
    if not since_text:
        return []
    # --all: without it journalctl's JSON output turns any field longer than 4096 bytes into null.
    rc, out, dummy = module.run_command(['journalctl', '--unit', unit, '--since', since_text,
                                         '--output', 'json', '--all', '--no-pager'])
    if rc != 0:
        return []
    try:
        with open(proc_path('sys', 'kernel', 'random', 'boot_id')) as handle:
            boot_id = handle.read().strip().replace('-', '')
    except (IOError, OSError):
        boot_id = None
    return journal_entries_after(out, since_monotonic, boot_id)


def parse_version_output(text):
    """The version in the output of ``claude --version`` (``2.1.328 (Claude Code)``), or None.

    Anything else (another program's banner, an agent that ignored the flag and started) is no version.
    """
    match = _CLI_VERSION.search(_ANSI_CSI.sub('', text or ''))
    return match.group(1) if match else None


def cli_package(text):
    """(name, version) from the text of a package.json of a Claude Code package, else (None, None)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    name, version = data.get('name'), data.get('version')
    if not isinstance(name, str) or not name.startswith(CLI_PACKAGE_PREFIX) or not isinstance(version, str) or not version:
        return None, None
    return name, version


def package_json_candidates(binary):
    """Where the package.json of an installed binary can be, nearest first.

    The native packages keep the binary beside it (``package/claude``); the npm wrapper one level down
    (``bin/claude.exe``).
    """
    directory = os.path.dirname(binary)
    return [os.path.join(directory, 'package.json'), os.path.join(os.path.dirname(directory), 'package.json')]


def cli_install(path):
    """What is installed at ``path``, from the files alone: it never runs the binary.

    ``version`` and ``package`` come from the package.json of the npm package the resolved binary belongs
    to, and ``install_dir`` is that package's directory; all three are None for a binary of no package.
    """
    real_path = os.path.realpath(os.path.expanduser(path))
    result = {'path': path, 'exists': os.path.exists(real_path), 'real_path': real_path,
              'version': None, 'package': None, 'install_dir': None}
    if not os.path.isfile(real_path):
        return result
    for candidate in package_json_candidates(real_path):
        try:
            with open(candidate, 'rb') as handle:
                name, version = cli_package(handle.read().decode('utf-8', 'replace'))
        except (IOError, OSError):
            continue
        if name:
            result.update(version=version, package=name, install_dir=os.path.dirname(candidate))
            break
    return result


def is_executable_file(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def run_with_timeout(module, argv, seconds):
    """module.run_command with the process killed after ``seconds``: (rc, stdout, stderr).

    run_command has no timeout of its own, and a program that ignores the arguments (a wrapper that
    starts the agent) would hang the whole module. A program that cannot be executed gives rc None.
    """
    timers = []

    def arm(process):
        timer = threading.Timer(seconds, process.kill)
        timer.daemon = True
        timer.start()
        timers.append(timer)

    try:
        return module.run_command(argv, before_communicate_callback=arm, handle_exceptions=False)
    except (IOError, OSError) as exc:
        return None, '', str(exc)
    finally:
        for timer in timers:
            timer.cancel()
