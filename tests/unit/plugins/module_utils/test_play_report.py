# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which hosts a report of a play covers, and where it goes."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.jada.agent.plugins.module_utils.play_report import play_report_inputs

HOSTVARS = {'a': {'fact': 1}, 'b': {'fact': 2}}


@pytest.mark.parametrize('args, task_vars, directory, hosts', [
    ({'directory': '/srv/r'}, {'ansible_play_hosts_all': ['b', 'a'], 'hostvars': HOSTVARS}, '/srv/r',
     [('b', {'fact': 2}), ('a', {'fact': 1})]),
    ({'directory': '/srv/r', 'hosts': ['a']}, {'ansible_play_hosts_all': ['a', 'b'], 'hostvars': HOSTVARS}, '/srv/r',
     [('a', {'fact': 1})]),
    # A host of the play without hostvars (never reached) is still in the report, with nothing to read.
    ({'directory': '/srv/r'}, {'ansible_play_hosts_all': ['a', 'gone'], 'hostvars': HOSTVARS}, '/srv/r',
     [('a', {'fact': 1}), ('gone', {})]),
    ({'directory': '/srv/r', 'hosts': []}, {'ansible_play_hosts_all': ['a'], 'hostvars': HOSTVARS}, '/srv/r', []),
    ({}, None, '', []),
    ({'directory': None}, {}, '', []),
    ({'directory': '~/reports'}, {}, os.path.expanduser('~/reports'), []),
], ids=['play-order', 'named-hosts', 'host-without-vars', 'no-hosts-named', 'nothing', 'null-directory',
        'home-expanded'])
def test_play_report_inputs(args, task_vars, directory, hosts):
    found_directory, found_hosts, finished = play_report_inputs(args, task_vars)
    assert (found_directory, found_hosts) == (directory, hosts)
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', finished)
