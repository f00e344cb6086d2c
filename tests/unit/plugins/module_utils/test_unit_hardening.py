# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.jada.agent.plugins.module_utils import unit_hardening


@pytest.mark.parametrize('hardening, expected', [
    ({}, []),
    (None, []),
    ({'NoNewPrivileges': True, 'LockPersonality': False}, [('LockPersonality', 'no'), ('NoNewPrivileges', 'yes')]),
    ({'ProtectSystem': 'full', 'PrivateTmp': None}, [('ProtectSystem', 'full')]),
])
def test_directives_are_written_as_the_unit_template_writes_them(hardening, expected):
    assert unit_hardening.directives(hardening) == expected


@pytest.mark.parametrize('output, expected', [
    # systemd 252
    ('Finished with result: exit-code\nMain processes terminated with: code=exited/status=217\n', 'status=217'),
    ('Main processes terminated with: code=killed/status=ABRT', 'status=ABRT'),
    # systemd 257
    ('Running as unit: run-p59-i6680572.service; invocation ID: 071a\nFinished with result: exit-code\n'
     'Main processes terminated with: code=exited, status=217/USER\nService runtime: 967us\n', 'status=217/USER'),
    ('Main processes terminated with: code=killed, status=6/ABRT', 'status=6/ABRT'),
    ('Failed to start transient service unit: Access denied', None),
    ('', None),
    (None, None),
])
def test_failure_status_is_what_systemd_run_reports(output, expected):
    assert unit_hardening.failure_status(output) == expected


@pytest.mark.parametrize('all_started, alone, expected', [
    # systemd 252: the whole set starts, nothing is probed alone.
    (True, {}, []),
    # systemd 257 in an unprivileged container: the four that need CAP_SYS_ADMIN kept.
    (False, {'NoNewPrivileges': None, 'ProtectKernelTunables': 'status=217', 'LockPersonality': 'status=217'},
     ['LockPersonality', 'ProtectKernelTunables']),
    # The set fails but no directive alone does: nothing is left out (the restart's verification judges it).
    (False, {'NoNewPrivileges': None, 'PrivateTmp': None}, []),
])
def test_left_out_are_the_directives_that_fail_alone_once_the_set_failed(all_started, alone, expected):
    assert unit_hardening.left_out(all_started, alone) == expected


UNIT = ('[Service]\nUser=jada\nProtectKernelTunables=yes\nProtectSystem=full\nLockPersonality=yes\n'
        'Environment=LockPersonality=yes\n')


@pytest.mark.parametrize('names, expected', [
    ([], UNIT),
    (['LockPersonality'], '[Service]\nUser=jada\nProtectKernelTunables=yes\nProtectSystem=full\n'
                          'Environment=LockPersonality=yes\n'),
    (['LockPersonality', 'ProtectKernelTunables'], '[Service]\nUser=jada\nProtectSystem=full\n'
                                                   'Environment=LockPersonality=yes\n'),
    (['ProtectHome'], UNIT),
])
def test_without_drops_only_the_lines_that_set_those_directives(names, expected):
    assert unit_hardening.without(UNIT, names) == expected


def test_the_cache_is_per_user_and_directive_set():
    pairs = [('LockPersonality', 'yes')]
    assert unit_hardening.cache_name('jada', pairs) == unit_hardening.cache_name('jada', list(pairs))
    assert unit_hardening.cache_name('jada', pairs) != unit_hardening.cache_name('nobody', pairs)
    assert unit_hardening.cache_name('jada', pairs) != unit_hardening.cache_name('jada', [('LockPersonality', 'no')])


def test_the_warning_names_the_directive_the_failure_and_the_override():
    text = unit_hardening.warning('jada-agent', 'jada', 'LockPersonality', 'yes', 'status=217')
    assert 'LockPersonality=yes is left out of jada-agent.service' in text
    assert 'user jada (status=217)' in text
    assert 'jada_agent_hardening_overrides: {LockPersonality: null}' in text
