# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The real Claude Code CLI's output, and a fake agent that answers tasks with it.

``cli_output/`` holds stream-json output of Claude Code 2.1.328 (``-p --input-format stream-json
--output-format stream-json --verbose``), captured against a local stand-in of the Messages API:

* ``service-success.jsonl``: run by systemd, tasks 22222222-…, 33333333-… and (after a restart, a new session)
  44444444-…, each answered ``OK`` by claude-haiku-4-5.
* ``notfound-404.jsonl``: task 11111111-… refused with 404 not_found_error for claude-sonnet-4-6.
* ``overloaded-529-retrying.jsonl``: task 11111111-… while the API answered 529; 8 api_retry lines, then the CLI
  was stopped.
* ``service-queue.jsonl``: one session of claude-haiku-4-5: 7b0d4dbf-… answered; cd618ea2-… refused with 404
  (its result's modelUsage still names the model of the earlier task); d4994aeb-… retried 5 times on 529 and
  was answered once the API recovered, while d00c13fa-… waited queued behind it, then answered.

``FakeAgent`` plays the agent as systemd runs it: the FIFO held open for reading and writing (``ListenFIFO=``),
every task line read from it recorded, and the CLI's lines for it appended to the output file.
"""

from __future__ import annotations

import json
import os
import select
import threading

CLI_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cli_output')

SUCCESS_TASK = '22222222-1111-4111-8111-111111111111'
SECOND_TASK = '33333333-1111-4111-8111-111111111111'
AFTER_RESTART_TASK = '44444444-1111-4111-8111-111111111111'
SAMPLE_TASK = '11111111-1111-4111-8111-111111111111'
QUEUE_SUCCESS_TASK = '7b0d4dbf-2a7a-40df-917a-4cba1e079208'
QUEUE_404_TASK = 'cd618ea2-fbac-45b3-adcc-69b1895f0889'
QUEUE_RETRIED_TASK = 'd4994aeb-fade-487d-b788-ee5a0f58db6b'
QUEUE_WAITING_TASK = 'd00c13fa-bff1-4bb6-9f5b-b3f1e7398155'


def cli_lines(name):
    """The lines (without newline) of a file in cli_output/."""
    with open(os.path.join(CLI_OUTPUT, name)) as handle:
        return handle.read().splitlines()


def task_lines(name, task_uuid):
    """The lines of one task in a cli_output/ file: from its ``queued`` lifecycle line to its last lifecycle line,
    or to the end of the file."""
    lines = cli_lines(name)
    first = last = None
    for index, line in enumerate(lines):
        if task_uuid in line and '"command_lifecycle"' in line:
            first = index if first is None else first
            last = index
    assert first is not None, 'no task %s in %s' % (task_uuid, name)
    if '"state":"queued"' in lines[last] or '"state":"started"' in lines[last]:
        last = len(lines) - 1
    return lines[first:last + 1]


def as_task(lines, sample_uuid, task_uuid, answer=None):
    """The lines of a sample task as the CLI would write them for ``task_uuid``, the answer text replaced."""
    result = []
    for line in lines:
        line = line.replace(sample_uuid, task_uuid)
        if answer is not None:
            line = line.replace('"text":"OK"', '"text":%s' % json.dumps(answer))
            line = line.replace('"result":"OK"', '"result":%s' % json.dumps(answer))
        result.append(line)
    return result


def success_answer(task_uuid, answer=None):
    return as_task(task_lines('service-success.jsonl', SUCCESS_TASK), SUCCESS_TASK, task_uuid, answer)


def not_found_answer(task_uuid):
    return as_task(cli_lines('notfound-404.jsonl'), SAMPLE_TASK, task_uuid)


def overloaded_answer(task_uuid):
    return as_task(cli_lines('overloaded-529-retrying.jsonl'), SAMPLE_TASK, task_uuid)


class FakeAgent(object):
    """The agent behind ``inbox``: ``respond(task)`` gives the output lines for each task it reads.

    ``task`` is the decoded task line. Lines are appended to ``output`` as the CLI does (one write each).
    Use as a context manager; ``tasks`` lists what was read, ``raw`` the bytes.
    """

    def __init__(self, inbox, output, respond):
        self.inbox = str(inbox)
        self.output = str(output)
        self.respond = respond
        self.tasks = []
        self.raw = b''
        self._stop = threading.Event()
        os.mkfifo(self.inbox)
        # Read-write, as systemd holds a ListenFIFO: writers never get ENXIO and the reader never gets EOF.
        self._fd = os.open(self.inbox, os.O_RDWR | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)
        os.close(self._fd)

    def _run(self):
        pending = b''
        while not self._stop.is_set():
            readable = select.select([self._fd], [], [], 0.02)[0]
            if not readable:
                continue
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            self.raw += data
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                task = json.loads(line.decode('utf-8'))
                self.tasks.append(task)
                for out in self.respond(task):
                    with open(self.output, 'a') as handle:
                        handle.write(out + '\n')
