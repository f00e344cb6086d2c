"""Benchmark of agent_usage_info on a large set of transcripts, against ccusage on the same files.

Usage (after hacking/setup.sh, inside hacking/env.sh's environment; `make bench-usage` does both):
    python hacking/bench_usage.py [--size-mb 1024] [--grow-mb 10] [--repeat 3]

Generates --size-mb of transcripts shaped like the ones the real CLI writes (tests/usage/cli-transcripts.md: the
same line types, key order and fields; projects with many sessions, resumed runs, subagent sidechain files, tool_use
answers over two lines with one message id and request id, tool results of varied sizes, retried API errors and
synthetic error answers, two models) into .work/bench-usage, once per recipe. Then measures side by side, in one run:
  - the module itself (plugins/modules/agent_usage_info.py run as Ansible runs it, from an args file) reading them all
    with a fresh state file: wall time and peak memory (the sum over its process tree, sampled, or the largest
    process as the kernel counts it, whichever is more),
  - `ccusage daily --json --offline --breakdown` on the same directory: wall time and peak memory; the per-model token
    counts of the two must agree, else the benchmark fails,
  - after --grow-mb more (resumed runs appended to existing sessions, a few new sessions): the module again with the
    state of the full read (time, bytes read) and ccusage again on the grown set (and agreeing again).
Targets: the full read no slower than ccusage, under 100 MB peak memory, the incremental run in proportion to the new
bytes (at most 3x the full read's time per byte, plus a fixed 1 s for the start and the state). Prints a Markdown
table. Timing asserts never go into the test suite; this is the place.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, '.work', 'bench-usage')
MODULE = os.path.join(ROOT, 'plugins', 'modules', 'agent_usage_info.py')
# Bump when the generator's output changes: the cached transcripts are then made again.
GENERATOR_VERSION = 2
SEED = 20261201
VERSION = '2.1.328'
MAIN_MODELS = ('claude-sonnet-4-6', 'claude-haiku-4-5')
SUBAGENT_MODEL = 'claude-haiku-4-5'
PROJECTS = 12
BASE_TIME = 1793491200000  # 2026-11-01T00:00:00Z
GROW_TIME = BASE_TIME + 40 * 86400000
MEGABYTE = 1024 * 1024
PEAK_TARGET_MB = 100
# The incremental run: at most this many times the full read's seconds per byte, plus the fixed cost of a run
# (starting Python and Ansible's module code, loading and writing the state).
INCREMENTAL_FACTOR, INCREMENTAL_FIXED = 3.0, 1.0


# --- transcripts ------------------------------------------------------------------------------------------

def dump(document):
    # As the CLI writes them (JSON.stringify): compact, non-ASCII as it is.
    return json.dumps(document, separators=(',', ':'), ensure_ascii=False) + '\n'


def iso(millis):
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=millis)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (millis % 1000)


CODE = [
    'def load_state(module, path):', '    """The state file, or None when there is none."""',
    '    if not path or not os.path.exists(path):', '        return None', "    with open(path) as handle:",
    '        return json.load(handle)', "    raise UsageError('%s is not a file' % path)",
    '    result["models"][name] = {"requests": 0, "input_tokens": 0}', '', '# Gr\u00fc\u00dfe: keep the state small',
    "    for key, value in sorted(entry.items()):", "        lines.append('%s=%s' % (key, value))",
    '    return {"path": path, "offset": offset, "tail": None}', "class Ledger(object):",
]
LOG = [
    'tests/unit/test_agent_usage.py::test_parse_line[answer] PASSED                  [ 12%]',
    'tests/unit/test_agent_usage.py::test_latency PASSED                             [ 47%]',
    '============================= 151 passed in 0.74s ==============================',
    'drwxr-xr-x  5 jada jada  4096 Dec  1 08:39 plugins', '-rw-r--r--  1 jada jada 52310 Dec  1 08:40 agent_usage.py',
    "E       AssertionError: assert 2123 == (7205 - 5163)", 'npm warn deprecated glob@7.2.3: Glob versions prior to v9',
    '[main 4b2db16] agent_usage: cheaper checks per line', ' 1 file changed, 71 insertions(+), 83 deletions(-)',
]


def tool_output(rng, size):
    """What a tool answers: a file read (numbered lines, the CLI's arrow), a command's log, or grep hits."""
    kind = rng.random()
    lines = []
    length = number = 0
    while length < size:
        number += 1
        if kind < 0.4:
            line = '%6d\u2192%s' % (number, rng.choice(CODE))
        elif kind < 0.8:
            line = rng.choice(LOG)
        else:
            line = 'plugins/module_utils/agent_usage.py:%d:%s' % (rng.randint(1, 1300), rng.choice(CODE))
        lines.append(line)
        length += len(line) + 1
    return '\n'.join(lines)


def text_pool(rng):
    """Tool outputs of varied sizes, from a line to a long file."""
    return [tool_output(rng, size) for size in [150, 400, 900, 1500, 2500, 4000, 6000, 9000, 14000, 24000, 40000,
                                                70000] for dummy in range(3)]


class Writer(object):
    """Writes sessions the way the CLI writes them; one instance per generation (its ids never repeat)."""

    def __init__(self, root, rng):
        self.root, self.rng = root, rng
        self.pool = text_pool(rng)
        self.sizes = sorted(self.pool, key=len)
        self.written = 0
        self.files = {}

    def uuid(self):
        value = '%032x' % self.rng.getrandbits(128)
        return '%s-%s-%s-%s-%s' % (value[:8], value[8:12], value[12:16], value[16:20], value[20:])

    def hex_id(self, prefix):
        return prefix + '%024x' % self.rng.getrandbits(96)

    def output(self):
        # Mostly small outputs, now and then a long one (a file read, a test log).
        index = min(int(self.rng.expovariate(1 / 6.0)), len(self.sizes) - 1)
        return self.sizes[index]

    def write(self, path, lines):
        if path not in self.files:
            self.files[path] = os.path.getsize(path) if os.path.exists(path) else -1
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                os.makedirs(directory)
        data = ''.join(lines).encode('utf-8')
        with open(path, 'ab') as handle:
            handle.write(data)
        self.written += len(data)


class Session(object):
    """One session file (or a subagent's): its ids, its clock and the envelope every line carries."""

    def __init__(self, writer, project, session_id, start, path, agent_id=None):
        self.writer, self.rng = writer, writer.rng
        self.cwd = '/srv/work/project-%d' % project
        self.session_id, self.now, self.path, self.agent_id = session_id, start, path, agent_id
        self.parent = self.last_usage = None
        self.lines = []

    def tick(self, low=40, high=2500):
        self.now += self.rng.randint(low, high)
        return iso(self.now)

    def tail(self, document):
        document.update(userType='external', entrypoint='sdk-cli', cwd=self.cwd, sessionId=self.session_id,
                        version=VERSION, gitBranch='HEAD')
        return document

    def add(self, document, uuid=None):
        self.lines.append(dump(document))
        if uuid is not None:
            self.parent = uuid

    def head(self, kind, prompt_id=None):
        document = {'parentUuid': self.parent, 'isSidechain': self.agent_id is not None}
        if prompt_id is not None:
            document['promptId'] = prompt_id
        if self.agent_id is not None:
            document['agentId'] = self.agent_id
        if kind is not None:
            document['type'] = kind
        return document

    def prompt(self, prompt_id, text):
        uuid = self.writer.uuid()
        document = self.head('user', prompt_id)
        document.update(message={'role': 'user', 'content': text}, uuid=uuid, timestamp=self.tick())
        if self.agent_id is None:
            document.update(permissionMode='bypassPermissions', promptSource='sdk', turnOrigin='sdk',
                            turnPosition={'promptIndex': 0, 'turnIndex': 1})
        self.add(self.tail(document), uuid)

    def attachment(self):
        uuid = self.writer.uuid()
        text = self.writer.output()
        document = self.head(None)
        document.update(attachment={'type': 'skill_listing', 'content': text[:2000], 'skillCount': 12},
                        type='attachment', uuid=uuid, timestamp=self.tick(5, 50),
                        rendered=[{'content': '<system-reminder>\n%s\n</system-reminder>' % text[:2000]}],
                        renderedRole='system')
        self.add(self.tail(document), uuid)

    def usage(self, model, small):
        rng = self.rng
        write = rng.randint(0, 400 if small else 4000)
        one_hour = write // 4 if rng.random() < 0.2 else 0
        return {'input_tokens': rng.randint(1, 60 if small else 1200),
                'cache_creation_input_tokens': write,
                'cache_read_input_tokens': rng.randint(2000, 8000 if small else 90000),
                'output_tokens': rng.randint(5, 900),
                'output_tokens_details': {'thinking_tokens': 0},
                'server_tool_use': {'web_search_requests': 0, 'web_fetch_requests': 0},
                'service_tier': 'standard',
                'cache_creation': {'ephemeral_1h_input_tokens': one_hour, 'ephemeral_5m_input_tokens': write - one_hour},
                'inference_geo': '', 'iterations': [], 'speed': 'standard', 'fallback_credit': None}

    def request(self, model):
        """The CLI's record of the request an answer comes from (no usage, nothing ccusage reads); its id."""
        request_ref = self.writer.uuid()
        digest = '%064x' % self.rng.getrandbits(256)
        self.other('api-request', id=request_ref, timestamp=self.tick(5, 60), version=VERSION, querySource='sdk',
                   shapeHash=digest, params={
                       'model': model, 'betas': ['interleaved-thinking-2025-05-14', 'context-management-2025-06-27',
                                                 'claude-code-20250219'], 'max_tokens': 32000,
                       'thinking': {'budget_tokens': 31999, 'type': 'enabled', 'display': 'omitted'}},
                   keep=0, tail=[digest], cacheControl=[{'path': ['system', 0], 'value': {'type': 'ephemeral'}}],
                   requestDigest=digest[::-1])
        return request_ref

    def answer(self, model, blocks, stop_reason):
        """One answer over one line per content block, each with the same ids and the final usage."""
        request_ref = self.request(model)
        message_id, request_id = self.writer.hex_id('msg_'), self.writer.hex_id('req_')
        usage = self.last_usage = self.usage(model, self.agent_id is not None)
        uuid = None
        for index, block in enumerate(blocks):
            uuid = self.writer.uuid()
            document = self.head(None)
            document['message'] = {'id': message_id, 'type': 'message', 'role': 'assistant', 'model': model,
                                   'content': [block], 'stop_reason': stop_reason, 'stop_sequence': None,
                                   'usage': usage, 'stop_details': None}
            if block['type'] == 'tool_use':
                document['toolInputStreamMs'] = self.rng.randint(1, 40)
            document.update(apiBlockIndex=index, requestId=request_id, requestRef=request_ref, requestedModel=model,
                            promptCacheRequested='5m')
            if self.agent_id is not None:
                document['attributionAgent'] = 'general-purpose'
            # The first block takes the model's time to come; the next ones follow at once.
            when = self.tick(200, 9000) if index == 0 else self.tick(1, 40)
            document.update(type='assistant', uuid=uuid, timestamp=when, effort='high', perTurnEffort=None,
                            madeBy='model')
            self.add(self.tail(document), uuid)
        return uuid

    def api_error(self):
        uuid = self.writer.uuid()
        document = self.head('system')
        document.update(subtype='api_error', level='error', error={
            'message': '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            'status': 529, 'requestId': self.writer.hex_id('req_'), 'formatted': '529 Overloaded', 'connection': None,
            'isNetworkDown': False, 'rateLimits': None, 'noResponse': None},
            retryInMs=self.rng.randint(400, 900), retryAttempt=1, maxRetries=10, source='request_retry',
            timestamp=self.tick(), uuid=uuid)
        self.add(self.tail(document), uuid)

    def synthetic_error(self, model):
        uuid = self.writer.uuid()
        document = self.head(None)
        document.update(type='assistant', uuid=uuid, timestamp=self.tick(), message={
            'diagnostics': None, 'id': self.writer.uuid(), 'container': None, 'model': '<synthetic>',
            'role': 'assistant', 'stop_details': None, 'stop_reason': 'stop_sequence', 'stop_sequence': '',
            'type': 'message', 'usage': {
                'output_tokens_details': None, 'input_tokens': 0, 'output_tokens': 0, 'cache_creation_input_tokens': 0,
                'cache_read_input_tokens': 0, 'server_tool_use': {'web_search_requests': 0, 'web_fetch_requests': 0},
                'service_tier': None, 'cache_creation': {'ephemeral_1h_input_tokens': 0, 'ephemeral_5m_input_tokens': 0},
                'inference_geo': None, 'iterations': None, 'speed': None, 'fallback_credit': None},
            'content': [{'type': 'text', 'text': "There's an issue with the selected model (%s)." % model}],
            'context_management': None},
            requestId=self.writer.hex_id('req_'), error='model_not_found', isApiErrorMessage=True, apiErrorStatus=404,
            apiErrorType='not_found_error', perTurnEffort=None, failedResponseHadNoToolCall=True, madeBy='model')
        self.add(self.tail(document), uuid)

    def tool_result(self, prompt_id, tool_id, source, output, extra=None):
        uuid = self.writer.uuid()
        document = self.head('user', prompt_id)
        document.update(message={'role': 'user', 'content': [
            {'tool_use_id': tool_id, 'type': 'tool_result', 'content': output, 'is_error': False}]},
            uuid=uuid, timestamp=self.tick(20, 4000))
        document['toolUseResult'] = extra or {'stdout': output, 'stderr': '', 'interrupted': False, 'isImage': False,
                                              'noOutputExpected': False}
        document.update(sandboxed=False, sourceToolAssistantUUID=source,
                        permissionDecision={'decision': 'accept', 'source': 'config', 'reasonType': 'mode'})
        self.add(self.tail(document), uuid)

    def other(self, kind, session_first=True, **fields):
        """A line of another type; the CLI puts the session after the fields in some of them."""
        document = {'type': kind}
        if session_first:
            document['sessionId'] = self.session_id
        document.update(fields)
        document['sessionId'] = self.session_id
        self.add(document)

    def flush(self):
        self.writer.write(self.path, self.lines)
        self.lines = []


def run(writer, session, model, turns, subagents=True):
    """One `claude -p` run in ``session``: its prompt, ``turns`` tool calls, the final answer and the run's end."""
    rng = writer.rng
    prompt_id = writer.uuid()
    text = 'Fix the failing test in module %d, then run the suite.' % rng.randint(1, 999)
    session.other('queue-operation', False, operation='enqueue', timestamp=session.tick(), content=text)
    session.other('queue-operation', False, operation='dequeue', timestamp=session.tick(1, 20))
    session.prompt(prompt_id, text)
    for dummy in range(rng.randint(1, 3)):
        session.attachment()
    for turn in range(turns):
        if rng.random() < 0.01:
            session.api_error()
        tool_id = writer.hex_id('toolu_')
        agent = subagents and rng.random() < 0.06
        tool = ({'type': 'tool_use', 'id': tool_id, 'name': 'Agent', 'input': {
            'description': 'Look into it', 'prompt': 'Find where %d is set' % turn, 'subagent_type': 'general-purpose',
            'model': 'haiku', 'run_in_background': False}} if agent else
            {'type': 'tool_use', 'id': tool_id, 'name': 'Bash', 'input': {
                'command': 'pytest -q tests/test_%d.py' % turn, 'description': 'Run the tests'}})
        thought = {'type': 'text', 'text': rng.choice(writer.sizes[:9])[:rng.randint(40, 900)]}
        source = session.answer(model, [thought, tool], 'tool_use')
        if agent:
            session.flush()
            usage, answer = subagent(writer, session, prompt_id, tool['input']['prompt'])
            extra = {'status': 'completed', 'prompt': tool['input']['prompt'], 'agentId': 'a%016x' % turn,
                     'agentType': 'general-purpose', 'content': [{'type': 'text', 'text': answer}],
                     'resolvedModel': SUBAGENT_MODEL, 'totalDurationMs': rng.randint(500, 9000),
                     'totalTokens': usage['input_tokens'] + usage['output_tokens'], 'totalToolUseCount': 2,
                     'usage': usage}
            session.tool_result(prompt_id, tool_id, source, answer, extra)
        else:
            session.tool_result(prompt_id, tool_id, source, writer.output())
        if rng.random() < 0.1:
            session.attachment()
    if rng.random() < 0.003:
        session.synthetic_error(model)
    else:
        session.answer(model, [{'type': 'text', 'text': 'Done: the suite passes.'}], 'end_turn')
    session.other('last-prompt', False, lastPrompt=text, leafUuid=session.parent)
    session.other('cost-state', totalCostUSD=round(rng.random(), 6), totalAPIDuration=rng.randint(100, 9000),
                  modelUsage={model: {'inputTokens': 1, 'outputTokens': 1, 'costUSD': 0.1}},
                  hasUnknownModelCost=False)
    session.flush()


def subagent(writer, parent, prompt_id, prompt):
    """A subagent's sidechain file beside its session; (the usage of its last answer, its report)."""
    rng = writer.rng
    agent_id = 'a%016x' % rng.getrandbits(64)
    path = os.path.join(os.path.dirname(parent.path), parent.session_id, 'subagents', 'agent-%s.jsonl' % agent_id)
    session = Session(writer, 0, parent.session_id, parent.now, path, agent_id)
    session.cwd = parent.cwd
    session.prompt(prompt_id, prompt)
    for dummy in range(rng.randint(1, 5)):
        tool_id = writer.hex_id('toolu_')
        source = session.answer(SUBAGENT_MODEL, [{'type': 'tool_use', 'id': tool_id, 'name': 'Grep', 'input': {
            'pattern': 'setting', 'path': '.'}}], 'tool_use')
        session.tool_result(prompt_id, tool_id, source, writer.output())
    session.answer(SUBAGENT_MODEL, [{'type': 'text', 'text': 'It is set in config.py.'}], 'end_turn')
    session.flush()
    parent.now = session.now
    return session.last_usage, 'It is set in config.py.'


def new_session(writer, rng, start):
    project = rng.randint(1, PROJECTS)
    session_id = writer.uuid()
    path = os.path.join(writer.root, 'projects', '-srv-work-project-%d' % project, session_id + '.jsonl')
    return Session(writer, project, session_id, start, path)


def generate(root, megabytes, seed, start, resume=()):
    """Writes about ``megabytes`` of sessions under ``root``; ``resume`` lists sessions to append runs to first.

    Returns {path: its size before (or -1 for a new file)} of every file written."""
    rng = random.Random(seed)
    writer = Writer(root, rng)
    target = megabytes * MEGABYTE
    for path in resume:
        if writer.written >= target / 2:
            break
        project = int(os.path.basename(os.path.dirname(path)).rsplit('-', 1)[1])
        session = Session(writer, project, os.path.basename(path)[:-len('.jsonl')], start, path)
        run(writer, session, rng.choice(MAIN_MODELS), rng.randint(3, 12), subagents=False)
    while writer.written < target:
        session = new_session(writer, rng, start + rng.randint(0, 27 * 86400000))
        model = MAIN_MODELS[0] if rng.random() < 0.8 else MAIN_MODELS[1]
        for dummy in range(rng.randint(1, 8)):
            run(writer, session, model, rng.randint(2, 40))
            session.now += rng.randint(60000, 3600000)
    return writer.files


def tree_size(root):
    count = total = 0
    for directory, dummy, names in os.walk(root):
        for name in names:
            if name.endswith('.jsonl'):
                count += 1
                total += os.path.getsize(os.path.join(directory, name))
    return count, total


def prepare(size_mb):
    """The cached transcripts of this recipe: made again only when the recipe (or what is on disk) differs."""
    config = os.path.join(WORK, 'claude-config')
    recipe_path = os.path.join(WORK, 'recipe.json')
    recipe = {'generator': GENERATOR_VERSION, 'seed': SEED, 'size_mb': size_mb}
    undo_growth(config)
    try:
        with open(recipe_path) as handle:
            cached = json.load(handle)
    except (IOError, OSError, ValueError):
        cached = {}
    if cached.get('recipe') == recipe and list(tree_size(config)) == cached.get('files_bytes'):
        return config, cached['files_bytes']
    print('generating %d MB of transcripts in %s' % (size_mb, config), file=sys.stderr)
    shutil.rmtree(config, ignore_errors=True)
    if os.path.exists(recipe_path):
        os.unlink(recipe_path)
    generate(config, size_mb, SEED, BASE_TIME)
    files_bytes = list(tree_size(config))
    with open(recipe_path, 'w') as handle:
        json.dump({'recipe': recipe, 'files_bytes': files_bytes}, handle)
    return config, files_bytes


def grow(config, megabytes):
    """Appends resumed runs to existing sessions and adds new ones; what is undone afterwards is noted first."""
    sessions = sorted(os.path.join(directory, name) for directory, dummy, names in
                      os.walk(os.path.join(config, 'projects')) for name in names
                      if name.endswith('.jsonl') and 'subagents' not in directory)
    picked = random.Random(SEED + 1).sample(sessions, min(40, len(sessions)))
    before = dict((path, os.path.getsize(path)) for path in picked)
    with open(os.path.join(WORK, 'grown.json'), 'w') as handle:
        json.dump(before, handle)
    files = generate(config, megabytes, SEED + 2, GROW_TIME, resume=picked)
    before.update(files)
    with open(os.path.join(WORK, 'grown.json'), 'w') as handle:
        json.dump(before, handle)
    return sum(os.path.getsize(path) - max(size, 0) for path, size in before.items())


def undo_growth(config):
    path = os.path.join(WORK, 'grown.json')
    if not os.path.exists(path):
        return
    with open(path) as handle:
        before = json.load(handle)
    for name, size in before.items():
        if size < 0:
            if os.path.exists(name):
                os.unlink(name)
        elif os.path.exists(name):
            os.truncate(name, size)
    os.unlink(path)


# --- measuring --------------------------------------------------------------------------------------------

def tree_memory(pid):
    """(RSS, PSS) in KiB of ``pid`` and its descendants. Forked workers share most of their pages with the process
    they come from: the sum of RSS counts those once per process, the sum of PSS once in all."""
    rss = pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open('/proc/%d/smaps_rollup' % current) as handle:
                for line in handle:
                    if line.startswith('Rss:'):
                        rss += int(line.split()[1])
                    elif line.startswith('Pss:'):
                        pss += int(line.split()[1])
            for task in os.listdir('/proc/%d/task' % current):
                with open('/proc/%d/task/%s/children' % (current, task)) as handle:
                    pending.extend(int(child) for child in handle.read().split())
        except (IOError, OSError, ValueError):
            continue
    return rss, pss


def measure(command, env):
    """(wall seconds, peak MB, stdout) of ``command``. The peak is the largest sum of PSS over its process tree, sampled
    every 20 ms, or the kernel's peak RSS of its largest process if that is more."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        peak = [0, 0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[:] = [max(old, new) for old, new in zip(peak, tree_memory(process.pid))]
                done.wait(0.02)
        sampler = threading.Thread(target=sample)
        sampler.start()
        dummy, status, rusage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode('utf-8', 'replace'), err.read().decode('utf-8', 'replace')
    if process.returncode != 0:
        sys.exit('%s failed (%d):\n%s\n%s' % (' '.join(command), process.returncode, stdout[-3000:], stderr[-3000:]))
    return seconds, max(peak[1], rusage.ru_maxrss) / 1024.0, stdout, peak[0] / 1024.0


def module_run(config, state_file):
    args = os.path.join(WORK, 'args.json')
    with open(args, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'config_dirs': [config], 'state_file': state_file}}, handle)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'collections'))
    seconds, peak, stdout, rss = measure([sys.executable, MODULE, args], env)
    result = json.loads(stdout)
    if result.get('failed'):
        sys.exit('the module failed: %s' % result.get('msg'))
    return seconds, peak, result, rss


def ccusage_run(config, home):
    binary = os.environ.get('JADA_CCUSAGE')
    if not binary or not os.access(binary, os.X_OK):
        sys.exit('JADA_CCUSAGE (the pinned ccusage binary) is not set or not there; run inside hacking/env.sh after '
                 'hacking/setup.sh')
    env = {'PATH': '/usr/bin:/bin', 'HOME': home, 'TZ': 'UTC', 'CLAUDE_CONFIG_DIR': config}
    seconds, peak, stdout, dummy = measure([binary, 'daily', '--json', '--offline', '--breakdown', '-z', 'UTC'], env)
    return seconds, peak, json.loads(stdout)


def ccusage_counts(report):
    counts = {}
    for day in report['daily']:
        for row in day['modelBreakdowns']:
            sums = counts.setdefault(row['modelName'], [0, 0, 0, 0])
            for index, key in enumerate(('inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens')):
                sums[index] += row[key]
    return counts


def module_counts(result):
    # A model with API errors only (<synthetic>) has no row in ccusage's breakdown.
    return dict((model, [figures['input_tokens'], figures['output_tokens'], figures['cache_creation_input_tokens'],
                         figures['cache_read_input_tokens']]) for model, figures in result['models'].items()
                if figures['requests'])


def agree(result, report, what):
    ours, theirs = module_counts(result), ccusage_counts(report)
    if ours != theirs:
        sys.exit('%s: the module and ccusage disagree:\n  module  %s\n  ccusage %s' % (what, ours, theirs))
    return sum(figures['requests'] for figures in result['models'].values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mb', type=int, default=1024)
    parser.add_argument('--grow-mb', type=int, default=10)
    parser.add_argument('--repeat', type=int, default=3)
    options = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    config, (files, size) = prepare(options.size_mb)
    home = tempfile.mkdtemp(prefix='bench-usage-home-')
    full_state = os.path.join(WORK, 'state-full.json')
    state = os.path.join(WORK, 'state.json')
    full, ours_full = [], []
    try:
        # Interleaved, so that a burst of load on this shared machine falls on both alike.
        for dummy in range(options.repeat):
            if os.path.exists(state):
                os.unlink(state)
            seconds, peak, result, rss = module_run(config, state)
            ours_full.append((seconds, peak, rss))
            full.append(ccusage_run(config, home))
            answers = agree(result, full[-1][2], 'full read')
        shutil.copyfile(state, full_state)
        grown = grow(config, options.grow_mb)
        incremental, theirs_grown = [], []
        for dummy in range(options.repeat):
            shutil.copyfile(full_state, state)
            seconds, peak, result, dummy = module_run(config, state)
            incremental.append((seconds, peak, result['bytes_read']))
            theirs_grown.append(ccusage_run(config, home))
            agree(result, theirs_grown[-1][2], 'after growing')
    finally:
        undo_growth(config)
        shutil.rmtree(home, ignore_errors=True)

    median = statistics.median
    ours_time, ours_peak = median(run[0] for run in ours_full), max(run[1] for run in ours_full)
    theirs_time, theirs_peak = median(run[0] for run in full), max(run[1] for run in full)
    grown_time, grown_peak = median(run[0] for run in incremental), max(run[1] for run in incremental)
    grown_read = median(run[2] for run in incremental)
    theirs_grown_time = median(run[0] for run in theirs_grown)
    allowed = INCREMENTAL_FIXED + INCREMENTAL_FACTOR * ours_time * grown_read / size
    print('\n## agent_usage_info benchmark: %s, %d cores, Python %s, %s UTC' % (
        platform.node(), os.cpu_count(), platform.python_version(),
        datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')))
    print('%d files, %.0f MB, %d answers counted; then %.1f MB more; median of %d runs; times in seconds, peak '
          'memory in MB (see below)\n' % (files, size / float(MEGABYTE), answers, grown / float(MEGABYTE), options.repeat))
    print('| run | agent_usage_info | ccusage %s | target | met |' % os.environ.get('JADA_CCUSAGE_VERSION', ''))
    print('|---|---|---|---|---|')
    rows = [
        ('full read, time', '%.2f' % ours_time, '%.2f' % theirs_time, '<= ccusage', ours_time <= theirs_time),
        ('full read, peak memory', '%.0f' % ours_peak, '%.0f' % theirs_peak, '< %d MB' % PEAK_TARGET_MB,
         ours_peak < PEAK_TARGET_MB),
        ('after %.1f MB more, time' % (grown / float(MEGABYTE)), '%.2f' % grown_time, '%.2f' % theirs_grown_time,
         '<= %.2f' % allowed, grown_time <= allowed),
        ('after %.1f MB more, bytes read' % (grown / float(MEGABYTE)), '%d' % grown_read, 'all',
         '%d' % grown, grown_read == grown),
        ('after %.1f MB more, peak memory' % (grown / float(MEGABYTE)), '%.0f' % grown_peak, '',
         '< %d MB' % PEAK_TARGET_MB, grown_peak < PEAK_TARGET_MB),
    ]
    for name, ours, theirs, target, ok in rows:
        print('| %s | %s | %s | %s | %s |' % (name, ours, theirs, target, 'met' if ok else 'MISSED'))
    print('\npeak memory: the largest sum of PSS over the process tree (the module and its workers; pages they share '
          'counted once), or the largest process\'s peak RSS if more; the sum of RSS (shared pages counted in each '
          'process) peaked at %.0f MB' % max(run[2] for run in ours_full))
    print('per-model token counts: agent_usage_info and ccusage agree (full read and after growing)')
    print('full read: %.1f MB/s (agent_usage_info), %.1f MB/s (ccusage)' % (
        size / float(MEGABYTE) / ours_time, size / float(MEGABYTE) / theirs_time))
    # As make bench: a missed target is a finding of the table, not a failure; disagreeing counts are (above).
    return 0


if __name__ == '__main__':
    sys.exit(main())
