# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Byte-preserving edits of strict JSON files: the top-level "model" key of Claude Code settings.json
files, and a string at any key path of an agent's JSON config file.

Claude Code parses its settings with a strict JSON parser, so this module is strict too:
comments, trailing commas, NaN/Infinity, a UTF-8 byte order mark and invalid UTF-8 are
errors. Objects are scanned member by member, so an edit replaces or inserts the bytes of
one member and every other byte survives unchanged. The one exception is set_path adding a
key below the top level that is missing: the document is then serialised again in the
file's own indentation.

Public API::

    decode(data) -> str                              # bytes -> text, SettingsError on bad UTF-8
    loads(text) -> value                             # any strict JSON document, SettingsError with position
    parse(text) -> Document                          # strict parse with member spans
    read_model(text) -> str | None
    set_model(text, model) -> str                    # unchanged text when already equal
    update_model(text, model) -> (previous, new_text)  # model=None removes
    set_path(text, path, value) -> str               # a string at a key path, e.g. ['agent', 'model']
    detect_indent(text, document=None) -> str | None  # None for a one-line object
    validate_model(model) -> None                    # ValueError quoting the bad value
    position(text, offset) -> (line, column)
    SettingsError(message, line=None, column=None)

Positions (line, column) are 1-based; columns count characters, as Python's json does.
Error messages never quote file content: settings files hold API keys.
"""

from __future__ import annotations

import json
import re
import unicodedata
from json.decoder import scanstring as _scanstring


__all__ = [
    'MODEL_KEY',
    'MAX_MODEL_LENGTH',
    'SettingsError',
    'Member',
    'Document',
    'decode',
    'loads',
    'parse',
    'read_model',
    'set_model',
    'update_model',
    'set_path',
    'detect_indent',
    'type_name',
    'validate_model',
    'position',
]

MODEL_KEY = 'model'
MAX_MODEL_LENGTH = 256

STRICT_HINT = 'strict JSON (Claude Code would reject this file too)'

_WS = re.compile(r'[ \t\n\r]*')
# Used only after the decoder has rejected a value, to locate the offending constant.
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.DOTALL)
_TYPE_NAMES = {
    dict: 'an object', list: 'an array', str: 'a string', bool: 'a boolean',
    int: 'a number', float: 'a number', type(None): 'null',
}


class SettingsError(ValueError):
    """A settings document that cannot be used; carries a 1-based line and column when known."""

    def __init__(self, message, line=None, column=None):
        super(SettingsError, self).__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self):
        if self.line is None:
            return self.message
        return 'line %d, column %d: %s' % (self.line, self.column, self.message)

    def describe(self, path):
        """The error prefixed with the file name, e.g. ``/x/settings.json: line 4, column 3: ...``."""
        return '%s: %s' % (path, self)


class _NonStrictConstant(ValueError):
    pass


def _reject_constant(name):
    raise _NonStrictConstant(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class Member(object):
    """One top-level member: decoded key and value plus [start, end) character spans."""

    __slots__ = ('key', 'value', 'key_start', 'key_end', 'value_start', 'value_end')

    def __init__(self, key, value, key_start, key_end, value_start, value_end):
        self.key = key
        self.value = value
        self.key_start = key_start
        self.key_end = key_end
        self.value_start = value_start
        self.value_end = value_end

    def __repr__(self):
        return 'Member(%r, key=[%d:%d], value=[%d:%d])' % (
            self.key, self.key_start, self.key_end, self.value_start, self.value_end)


class Document(object):
    """A parsed settings text: the top-level members in file order and the brace positions."""

    __slots__ = ('text', 'members', 'open_brace', 'close_brace', 'model')

    def __init__(self, text, members, open_brace, close_brace, model):
        self.text = text
        self.members = members
        self.open_brace = open_brace
        self.close_brace = close_brace
        self.model = model  # the Member holding "model", or None


def position(text, pos):
    """Return the 1-based (line, column) of character offset ``pos`` in ``text``."""
    line = text.count('\n', 0, pos) + 1
    return line, pos - text.rfind('\n', 0, pos)


def _error(text, pos, message):
    line, column = position(text, pos)
    return SettingsError(message, line, column)


def _skip_ws(text, pos):
    return _WS.match(text, pos).end()


def _previous_significant(text, pos):
    pos -= 1
    while pos >= 0 and text[pos] in ' \t\r\n':
        pos -= 1
    return text[pos] if pos >= 0 else ''


def _explain(text, pos, fallback):
    """Turn a low-level complaint at ``pos`` into a message that says what to fix."""
    if pos >= len(text) or _skip_ws(text, pos) >= len(text):
        return _error(text, len(text), 'unexpected end of file: the JSON is incomplete (truncated?)')
    char = text[pos]
    rest = text[pos:pos + 5]
    if char == '/' and rest[1:2] in ('/', '*'):
        return _error(text, pos, 'comments are not allowed in ' + STRICT_HINT)
    if char in '}]' and _previous_significant(text, pos) == ',':
        comma = text.rfind(',', 0, pos)
        return _error(text, comma, 'trailing comma is not allowed in ' + STRICT_HINT)
    if char == "'":
        return _error(text, pos, 'single-quoted strings are not allowed in ' + STRICT_HINT)
    tail = text[pos:]
    if any(word.startswith(tail) and tail != word for word in ('true', 'false', 'null')):
        return _error(text, len(text), 'unexpected end of file: the JSON is incomplete (truncated?)')
    return _error(text, pos, fallback)


def _from_decode_error(text, exc):
    msg = exc.msg
    if msg.startswith('Unterminated string'):
        return _error(text, exc.pos, 'unterminated string (is the file truncated?)')
    if msg.startswith('Invalid control character'):
        return _error(text, exc.pos, 'raw control character (such as a tab or newline) inside a string; '
                                     'strict JSON requires it to be escaped')
    if msg.startswith('Invalid \\escape') or msg.startswith('Invalid \\uXXXX escape'):
        return _error(text, exc.pos, 'invalid escape sequence in a string')
    return _explain(text, exc.pos, 'invalid JSON: ' + msg[:1].lower() + msg[1:])


def _constant_error(text, start):
    for match in _STRING_OR_CONSTANT.finditer(text, start):
        if match.group(1):
            return _error(text, match.start(1), '%s is not allowed in %s' % (match.group(1).lstrip('-'), STRICT_HINT))
    return _error(text, start, 'NaN and Infinity are not allowed in ' + STRICT_HINT)


def _decode_value(text, pos):
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _from_decode_error(text, exc)
    except _NonStrictConstant:
        raise _constant_error(text, pos)
    except RecursionError:
        raise _error(text, pos, 'value is nested too deeply')


def loads(text):
    """Strictly decode any JSON document (not only an object); SettingsError with line and column, never content."""
    pos = _skip_ws(text, 0)
    if pos == len(text):
        raise _error(text, pos, 'the file is empty')
    value, end = _decode_value(text, pos)
    end = _skip_ws(text, end)
    if end != len(text):
        raise _explain(text, end, 'extra data after the top-level JSON value')
    return value


def decode(data):
    """Decode settings bytes as strict UTF-8; a BOM or an invalid byte raises SettingsError."""
    if data.startswith(b'\xef\xbb\xbf'):
        raise SettingsError('the file starts with a UTF-8 byte order mark (BOM), which Claude Code\'s '
                            'JSON parser rejects; remove the BOM', 1, 1)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode('utf-8')
        line, column = position(good, len(good))
        raise SettingsError('invalid UTF-8 byte sequence; settings files must be UTF-8 encoded', line, column)


def _scan_object(text, open_brace, check=None):
    """The members of the object whose '{' is at ``text[open_brace]``, and the position of its '}'.

    ``check(member)`` sees each member as soon as it is read, so that its error is the one reported
    even when the text is also invalid further on.
    """
    members = []
    pos = _skip_ws(text, open_brace + 1)
    if pos < len(text) and text[pos] == '}':
        return members, pos
    while True:
        if pos >= len(text) or text[pos] != '"':
            raise _explain(text, pos, 'expecting a member name in double quotes')
        key_start = pos
        try:
            key, pos = _scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise _from_decode_error(text, exc)
        key_end = pos
        pos = _skip_ws(text, pos)
        if pos >= len(text) or text[pos] != ':':
            raise _explain(text, pos, "expecting ':' after the member name")
        pos = _skip_ws(text, pos + 1)
        value_start = pos
        value, pos = _decode_value(text, pos)
        member = Member(key, value, key_start, key_end, value_start, pos)
        if check is not None:
            check(member)
        members.append(member)
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ',':
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == '}':
            return members, pos
        raise _explain(text, pos, "expecting ',' or '}' after a member value")


def _top_level_object(text, check=None):
    """The Document of a text whose top level must be an object; errors as for parse()."""
    if text.startswith('\ufeff'):
        raise SettingsError('the file starts with a byte order mark (BOM), which Claude Code\'s '
                            'JSON parser rejects; remove the BOM', 1, 1)
    pos = _skip_ws(text, 0)
    if pos == len(text):
        raise _error(text, pos, 'the file is empty; a settings file must hold a JSON object such as {}')
    if text[pos] != '{':
        value, end = _decode_value(text, pos)
        end = _skip_ws(text, end)
        if end != len(text):
            raise _explain(text, end, 'extra data after the top-level JSON value')
        raise _error(text, pos, 'the top level must be a JSON object ({...}), found %s' % type_name(value))
    members, close_brace = _scan_object(text, pos, check)
    end = _skip_ws(text, close_brace + 1)
    if end != len(text):
        raise _explain(text, end, 'extra data after the top-level JSON object')
    return Document(text, members, pos, close_brace, None)


def parse(text):
    """Strictly parse ``text`` as a JSON object and record the spans of its top-level members.

    Raises SettingsError for anything Claude Code would reject, a non-object top level, a
    non-string "model" or a duplicated top-level "model" key.
    """
    found = []

    def check_model(member):
        if member.key != MODEL_KEY:
            return
        if found:
            line, column = position(text, found[0].key_start)
            raise _error(text, member.key_start, 'duplicate top-level "model" key (the first one is at line %d, '
                                                 'column %d); remove one of them' % (line, column))
        if not isinstance(member.value, str):
            raise _error(text, member.value_start, 'the top-level "model" value must be a string, found %s'
                         % type_name(member.value))
        found.append(member)

    document = _top_level_object(text, check_model)
    document.model = found[0] if found else None
    return document


def type_name(value):
    """How an error message names the JSON type of ``value``: 'an object', 'a number', 'null'..."""
    return _TYPE_NAMES.get(type(value), 'a value')


def read_model(text):
    """Return the top-level "model" string of a settings text, or None when there is none."""
    member = parse(text).model
    return None if member is None else member.value


def detect_indent(text, document=None):
    """Return the indentation of top-level members, or None when the object sits on one line.

    The whitespace after the last line break before a member name is its indentation
    (two or four spaces, a tab...). An empty object counts as Claude Code's two spaces.
    """
    document = document or parse(text)
    previous_end = document.open_brace + 1
    for member in document.members:
        # Only the whitespace after the comma indents; a leading-comma layout has none.
        gap = text[previous_end:member.key_start].rpartition(',')[2]
        if '\n' in gap:
            return gap[gap.rindex('\n') + 1:]
        previous_end = member.value_end
    return None if document.members else '  '


def _newline(text, document):
    if document.members:
        gap = text[document.open_brace + 1:document.members[0].key_start]
        if '\r\n' in gap:
            return '\r\n'
    elif '\r\n' in text:
        return '\r\n'
    return '\n'


def _name_separator(text, document):
    for member in reversed(document.members):
        separator = text[member.key_end:member.value_start]
        if '\n' not in separator:
            return separator
    return ': '


def _encode(model):
    return json.dumps(model, ensure_ascii=False)


def _insert(text, document, model):
    members = document.members
    encoded = _encode(model)
    newline = _newline(text, document)
    if not members:
        body = '"model": ' + encoded
        return text[:document.open_brace + 1] + newline + '  ' + body + newline + text[document.close_brace:]
    separator = _name_separator(text, document)
    entry = '"model"' + separator + encoded
    indent = detect_indent(text, document)
    last = members[-1]
    if indent is None:
        if len(members) > 1:
            glue = text[members[-2].value_end:last.key_start]
        else:
            glue = ', ' if separator.endswith(' ') else ','
    else:
        glue = ',' + newline + indent
    return text[:last.value_end] + glue + entry + text[last.value_end:]


def _remove(text, document):
    members = document.members
    index = members.index(document.model)
    if len(members) == 1:
        return text[:document.open_brace + 1] + text[document.close_brace:]
    if index + 1 < len(members):
        # The member, its comma and the next member's leading whitespace go; this
        # member's own leading whitespace then indents the next member.
        return text[:document.model.key_start] + text[members[index + 1].key_start:]
    return text[:members[index - 1].value_end] + text[document.model.value_end:]


def update_model(text, model):
    """Return ``(previous_model, new_text)``; ``model=None`` removes the top-level key.

    ``new_text is text`` when nothing needs to change. Only the bytes of the "model"
    value (or of the inserted/removed member) differ between the two texts.
    """
    document = parse(text)
    current = document.model
    previous = None if current is None else current.value
    if model is None:
        return previous, (text if current is None else _remove(text, document))
    if current is None:
        return previous, _insert(text, document, model)
    if current.value == model:
        return previous, text
    return previous, text[:current.value_start] + _encode(model) + text[current.value_end:]


def set_model(text, model):
    """Return ``text`` with the top-level "model" set to ``model`` (added when missing)."""
    if not isinstance(model, str):
        raise TypeError('model must be a string')
    return update_model(text, model)[1]


def _reserialise(text, path, value):
    document = loads(text)
    node = document
    for key in path[:-1]:
        if not isinstance(node, dict):
            break
        node = node.setdefault(key, {})
    if not isinstance(node, dict) or not isinstance(document, dict):
        raise SettingsError("cannot set '%s': a value on the way is not a JSON object" % '.'.join(path))
    node[path[-1]] = value
    layout = _top_level_object(text)
    indent = detect_indent(text, layout)
    if indent is None:
        new = json.dumps(document, ensure_ascii=False)
    else:
        new = json.dumps(document, ensure_ascii=False, indent=indent, separators=(',', ': '))
    newline = _newline(text, layout)
    if newline != '\n':
        new = new.replace('\n', newline)
    return text[:layout.open_brace] + new + text[layout.close_brace + 1:]


def set_path(text, path, value):
    """``text`` with the string at the key path ``path`` (a list of keys) set to ``value``.

    The top-level "model" key is set_model's (every other byte kept, added when missing). A key
    anywhere else that exists has only its value's bytes replaced; of duplicate keys the last one
    changes, as it is the one JSON decoders keep. A missing key is added by serialising the document
    again in the indentation and line breaks of the file (key order kept; whitespace, escapes and
    number spellings elsewhere may change). Returns ``text`` itself when the value is already there.
    """
    if not isinstance(value, str):
        raise TypeError('value must be a string')
    path = list(path)
    if path == [MODEL_KEY]:
        return set_model(text, value)
    loads(text)
    start = _skip_ws(text, 0)
    for depth, key in enumerate(path):
        if text[start] != '{':
            raise SettingsError("cannot set '%s': '%s' is not a JSON object"
                                % ('.'.join(path), '.'.join(path[:depth]) or '(top level)'))
        found = [member for member in _scan_object(text, start)[0] if member.key == key]
        if not found:
            return _reserialise(text, path, value)
        member = found[-1]
        if depth == len(path) - 1:
            if member.value == value:
                return text
            return text[:member.value_start] + _encode(value) + text[member.value_end:]
        start = member.value_start
    return text


def _quote(value, limit=80):
    shown = value if len(value) <= limit else value[:limit] + '...'
    return json.dumps(shown)


def validate_model(model):
    """Raise ValueError, quoting the value, unless ``model`` is a usable model name.

    A model name is non-empty, at most MAX_MODEL_LENGTH characters and holds no
    whitespace, control or invisible formatting characters.
    """
    if not isinstance(model, str) or not model:
        raise ValueError('model must be a non-empty string, got %s' % _quote(str(model or '')))
    if len(model) > MAX_MODEL_LENGTH:
        raise ValueError('model %s is %d characters long; at most %d are allowed'
                         % (_quote(model), len(model), MAX_MODEL_LENGTH))
    for index, char in enumerate(model):
        if char.isspace():
            raise ValueError('model %s contains whitespace at position %d; model names never do'
                             % (_quote(model), index + 1))
        if unicodedata.category(char) in ('Cc', 'Cf', 'Cs'):
            raise ValueError('model %s contains a control or invisible character (U+%04X) at position %d'
                             % (_quote(model), ord(char), index + 1))
