# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Replacing a file all at once: a complete temporary file beside it, renamed over it.

A reader (the Claude Code CLI, systemd, a report consumer) sees either the old bytes or the new
ones, never a truncated file, and a failure at any step leaves the target as it was and no
temporary file behind.

Public API::

    replace_file(path, content, prepare=None, move=None, prefix=None, suffix='')
    write_json_files(directory, names, content, mode=0o640)  # the same JSON document to several files
    TemporaryFileError                           # an OSError: the temporary file could not be written
"""

from __future__ import annotations

import json
import os
import tempfile


__all__ = ['TemporaryFileError', 'replace_file', 'write_json_files']


class TemporaryFileError(OSError):
    """The temporary file could not be created or written; the target was not touched."""


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_directory(directory):
    # The rename is only durable once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temporary(directory, content, prefix, suffix):
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    except OSError as exc:
        raise TemporaryFileError(exc.errno, exc.strerror, directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        _unlink_quietly(temporary)
        raise TemporaryFileError(exc.errno, exc.strerror, directory)
    except BaseException:
        _unlink_quietly(temporary)
        raise
    return temporary


def replace_file(path, content, prepare=None, move=None, prefix=None, suffix=''):
    """Make ``path`` hold ``content`` (bytes) in one step, or leave it as it was.

    The temporary file is written and fsynced in the directory of ``path`` (a rename does not cross
    file systems), then ``prepare(temporary)`` runs: give it a mode, owner or SELinux context there,
    or raise to refuse, for example because the target changed since it was read. ``move(temporary,
    path)`` renames it. The default ``os.rename`` keeps the temporary file's own mode and owner (those
    ``prepare`` gave it; mkstemp's 0600 otherwise); ``AnsibleModule.atomic_move`` gives it those of
    the file it replaces instead. ``prefix`` defaults to ``.<name>.``, so the file is hidden and
    tells whose it is; ``suffix`` lets a caller recognise its own leftovers.

    Raises TemporaryFileError when the temporary file cannot be written, and whatever ``prepare``
    or ``move`` raise; the temporary file is gone in every case, signals that raise included.
    """
    directory = os.path.dirname(path) or '.'
    if prefix is None:
        prefix = '.%s.' % os.path.basename(path)
    temporary = _write_temporary(directory, content, prefix, suffix)
    try:
        if prepare is not None:
            prepare(temporary)
        (move or os.rename)(temporary, path)
    finally:
        if os.path.lexists(temporary):
            _unlink_quietly(temporary)
    _sync_directory(directory)


def write_json_files(directory, names, content, mode=0o640):
    """Write ``content`` as indented JSON to each of ``names`` (base names) in ``directory``, created 0750 when
    missing; each file is replaced in one step, so a consumer polling latest.json never reads half a report.
    Returns the paths written; raises OSError."""
    data = (json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + '\n').encode('utf-8')
    paths = [os.path.join(directory, os.path.basename(str(name))) for name in names]
    os.makedirs(directory, 0o750, exist_ok=True)
    for path in paths:
        replace_file(path, data, prepare=lambda temporary: os.chmod(temporary, mode))
    return paths
