# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which of the unit's hardening directives the host's systemd can apply, decided from what it does.

systemd 257 in an unprivileged container (LXC/LXD, podman) cannot start a service with ProtectKernelTunables,
ProtectKernelModules, RestrictSUIDSGID or LockPersonality as a non-root user: the start fails with 217/USER, while
systemd 252 tolerates them. The host is asked with transient units (systemd-run), and what it cannot apply is left
out of the unit with a warning, before any restart. The decisions are the pure functions here; the probe itself runs
in agent_host_info.
"""

from __future__ import annotations

import hashlib
import json
import re

# Per boot: the answer holds until systemd changes, which takes a reboot or a re-exec.
CACHE_DIR = '/run/jada-agent-hardening'
# Printed by systemd-run --wait when the unit failed: "Main processes terminated with: code=exited/status=217"
# (systemd 252), "... code=exited, status=217/USER" (systemd 257).
STATUS = re.compile(r'code=\w+(?:/|, )status=(\w+(?:/\w+)?)')


def unit_value(value):
    """A value as the unit template writes it: booleans as yes/no."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def directives(hardening):
    """The hardening as (directive, value) pairs in the unit's order; a None value is not written at all."""
    return [(name, unit_value(value)) for name, value in sorted((hardening or {}).items()) if value is not None]


def cache_name(user, pairs):
    """The file under CACHE_DIR holding the answer for this user and these directives."""
    digest = hashlib.sha256(json.dumps([user, pairs]).encode('utf-8')).hexdigest()[:16]
    return 'hardening-%s.json' % digest


def failure_status(output):
    """'status=217' (or 'status=217/USER') from systemd-run's report of a failed unit, or None."""
    found = STATUS.search(output or '')
    return 'status=%s' % found.group(1) if found else None


def left_out(all_started, alone):
    """The directives to leave out of the unit: none when a unit with all of them started; else each one that fails
    on its own. ``alone`` maps each directive to None (started) or the failure systemd reported."""
    if all_started:
        return []
    return sorted(name for name, failure in alone.items() if failure is not None)


def without(unit_text, names):
    """The unit with the lines setting ``names`` removed, every other byte kept."""
    if not names:
        return unit_text
    dropped = tuple(name + '=' for name in names)
    return ''.join(line for line in unit_text.splitlines(True) if not line.startswith(dropped))


def warning(service, user, name, value, failure):
    return ('%s=%s is left out of %s.service: systemd on this host cannot start a unit with it as user %s (%s). '
            'Unprivileged containers on systemd 257 and later do this; set jada_agent_hardening_overrides: {%s: null} '
            'to leave it out without this warning.' % (name, value, service, user, failure, name))
