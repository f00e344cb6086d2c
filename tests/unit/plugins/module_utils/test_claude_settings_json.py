# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import (
    MAX_MODEL_LENGTH,
    SettingsError,
    decode,
    detect_indent,
    parse,
    read_model,
    set_path,
    set_model,
    update_model,
    validate_model,
)


SECRET = 'sk-ant-api03-SECRET-do-not-print'

CLAUDE_STYLE = (
    '{\n'
    '  "$schema": "https://json.schemastore.org/claude-code-settings.json",\n'
    '  "model": "claude-haiku-4-5-20251001",\n'
    '  "advisorModel": "opus",\n'
    '  "env": {\n'
    '    "ANTHROPIC_API_KEY": "' + SECRET + '",\n'
    '    "ANTHROPIC_MODEL": "claude-opus-4-6",\n'
    '    "model": "nested"\n'
    '  },\n'
    '  "modelSettings": {"model": "x", "temperature": 0.5},\n'
    '  "permissions": {\n'
    '    "allow": ["Bash(git diff:*)", "Read(~/.zshrc)"],\n'
    '    "deny": []\n'
    '  },\n'
    '  "greeting": "gr\\u00fc\\u00df dich, \u00e9t\u00e9 \U0001f600"\n'
    '}\n'
)


def value_span(text):
    member = parse(text).model
    return member.value_start, member.value_end


# -- setting an existing key ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('text', [
    CLAUDE_STYLE,
    CLAUDE_STYLE.rstrip('\n'),
    CLAUDE_STYLE.replace('\n', '\r\n'),
    CLAUDE_STYLE.replace('  ', '\t'),
    CLAUDE_STYLE.replace('  ', '    '),
    '{"model":"haiku","a":[1,2,{"model":"n"}]}',
    '\n\n  {  "a" : 1 ,\n\n "model"   :\t"haiku"  }  \n\n',
])
def test_set_existing_changes_only_the_value_bytes(text):
    start, end = value_span(text)
    new = set_model(text, 'claude-sonnet-4-6')
    assert new == text[:start] + '"claude-sonnet-4-6"' + text[end:]
    assert read_model(new) == 'claude-sonnet-4-6'


def test_nested_look_alike_keys_are_never_touched():
    new = set_model(CLAUDE_STYLE, 'sonnet')
    document = json.loads(new)
    assert document['env']['ANTHROPIC_MODEL'] == 'claude-opus-4-6'
    assert document['env']['model'] == 'nested'
    assert document['advisorModel'] == 'opus'
    assert document['modelSettings'] == {'model': 'x', 'temperature': 0.5}
    assert document['model'] == 'sonnet'


def test_nested_model_only_counts_as_absent():
    text = '{\n  "env": {"model": "a"},\n  "modelSettings": {"model": "b"}\n}\n'
    assert read_model(text) is None
    assert set_model(text, 'opus') == (
        '{\n  "env": {"model": "a"},\n  "modelSettings": {"model": "b"},\n  "model": "opus"\n}\n')
    assert update_model(text, None) == (None, text)


def test_escaped_key_is_the_model_key():
    text = '{"mod\\u0065l": "haiku", "b": 1}'
    assert read_model(text) == 'haiku'
    assert set_model(text, 'opus') == '{"mod\\u0065l": "opus", "b": 1}'
    assert update_model(text, None) == ('haiku', '{"b": 1}')


def test_equal_value_is_unchanged_even_when_spelled_with_escapes():
    text = '{"model": "s\\u006fnnet"}'
    assert set_model(text, 'sonnet') is text
    assert update_model(text, 'sonnet') == ('sonnet', text)


@pytest.mark.parametrize('model, encoded', [
    ('sonnet[1m]', '"sonnet[1m]"'),
    ('us.anthropic.claude-haiku-4-5-20251001-v1:0', '"us.anthropic.claude-haiku-4-5-20251001-v1:0"'),
    ('claude-haiku-4-5@20251001', '"claude-haiku-4-5@20251001"'),
    ('mod\u00e8le', '"mod\u00e8le"'),
    ('a"b\\c', '"a\\"b\\\\c"'),
])
def test_new_value_is_json_escaped_without_ascii_escapes(model, encoded):
    assert set_model('{"model": "x"}', model) == '{"model": ' + encoded + '}'
    assert read_model(set_model('{}', model)) == model


# -- adding a missing key ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('{\n  "a": 1\n}\n', '{\n  "a": 1,\n  "model": "m"\n}\n'),
    ('{\n    "a": 1,\n    "b": {\n        "c": 2\n    }\n}', '{\n    "a": 1,\n    "b": {\n        "c": 2\n    },\n    "model": "m"\n}'),
    ('{\n\t"a": [\n\t\t1\n\t]\n}\n', '{\n\t"a": [\n\t\t1\n\t],\n\t"model": "m"\n}\n'),
    ('{\r\n  "a": 1\r\n}\r\n', '{\r\n  "a": 1,\r\n  "model": "m"\r\n}\r\n'),
    ('{\n"a": 1\n}', '{\n"a": 1,\n"model": "m"\n}'),
    ('{"a": 1}', '{"a": 1, "model": "m"}'),
    ('{"a":1}', '{"a":1,"model":"m"}'),
    ('{"a" : 1 , "b" : 2}\n', '{"a" : 1 , "b" : 2 , "model" : "m"}\n'),
    ('{"a": 1,\n  "b": 2}', '{"a": 1,\n  "b": 2,\n  "model": "m"}'),
    ('{}', '{\n  "model": "m"\n}'),
    ('{}\n', '{\n  "model": "m"\n}\n'),
    ('  { \n }  ', '  {\n  "model": "m"\n}  '),
    ('{}\r\n', '{\r\n  "model": "m"\r\n}\r\n'),
    ('{"a": 1\n,"b": 2}', '{"a": 1\n,"b": 2\n,"model": "m"}'),
])
def test_missing_key_is_appended_in_the_files_style(text, expected):
    assert set_model(text, 'm') == expected


@pytest.mark.parametrize('text, indent', [
    ('{\n  "a": 1\n}', '  '),
    ('{\n    "a": 1\n}', '    '),
    ('{\n\t"a": 1\n}', '\t'),
    ('{"a": 1,\n   "b": 2}', '   '),
    ('{"a": 1, "b": {\n "c": 1}}', None),
    ('{}', '  '),
    ('{\n  "a": 1\n  , "b": 2\n}', '  '),
    ('{"a": 1\n, "b": 2}', None),
])
def test_detect_indent(text, indent):
    assert detect_indent(text) == indent


# -- removing the key (claude_settings state=absent) ----------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('{\n  "model": "x",\n  "a": 1\n}\n', '{\n  "a": 1\n}\n'),
    ('{\n  "a": 1,\n  "model": "x",\n  "b": 2\n}\n', '{\n  "a": 1,\n  "b": 2\n}\n'),
    ('{\n  "a": 1,\n  "model": "x"\n}', '{\n  "a": 1\n}'),
    ('{\n  "model": "x"\n}\n', '{}\n'),
    ('{"model": "x"}', '{}'),
    ('{"a": 1, "model": "x", "b": 2}', '{"a": 1, "b": 2}'),
    ('{"a":1 , "model":"x"}', '{"a":1}'),
    ('{"a": 1}', '{"a": 1}'),
])
def test_update_to_none_removes_only_the_member(text, expected):
    result = update_model(text, None)[1]
    assert result == expected
    assert read_model(result) is None


def test_remove_returns_previous_value():
    assert update_model(CLAUDE_STYLE, None)[0] == 'claude-haiku-4-5-20251001'


# -- strictness and error positions ----------------------------------------------------------------------------------

@pytest.mark.parametrize('text, line, column, fragment', [
    ('', 1, 1, 'the file is empty'),
    ('\n  \n', 3, 1, 'the file is empty'),
    ('[]', 1, 1, 'top level must be a JSON object ({...}), found an array'),
    ('"claude"', 1, 1, 'found a string'),
    ('null', 1, 1, 'found null'),
    ('{\n  "a": 1,\n}\n', 2, 9, 'trailing comma is not allowed in strict JSON'),
    ('{\n  "a": [1, 2, ],\n  "b": 1}', 2, 13, 'trailing comma'),
    ('{\n  // comment\n  "a": 1\n}', 2, 3, 'comments are not allowed in strict JSON'),
    ('{\n  "a": 1 /* c */\n}', 2, 10, 'comments are not allowed'),
    ('{\n  "a": {"b": [1, /* x */ 2]}\n}', 2, 18, 'comments are not allowed'),
    ('{\n  "a": NaN\n}', 2, 8, 'NaN is not allowed in strict JSON'),
    ('{"a": [1, {"b": -Infinity}]}', 1, 17, 'Infinity is not allowed'),
    ('{"s": "NaN Infinity", "b": Infinity}', 1, 28, 'Infinity is not allowed'),
    ('{\n  "a": "abc', 2, 8, 'unterminated string'),
    ('{\n  "a": 1', 2, 9, 'unexpected end of file'),
    ('{\n  "a": tr', 2, 10, 'unexpected end of file'),
    ('{\n  "a": {"b": [1, 2', 2, 19, 'unexpected end of file'),
    ('{\n  "a"', 2, 6, 'unexpected end of file'),
    ('{', 1, 2, 'unexpected end of file'),
    ("{'a': 1}", 1, 2, 'single-quoted strings are not allowed'),
    ('{a: 1}', 1, 2, 'expecting a member name in double quotes'),
    ('{"a" 1}', 1, 6, "expecting ':'"),
    ('{"a": 1 "b": 2}', 1, 9, "expecting ',' or '}'"),
    ('{"a": 01}', 1, 8, "expecting ',' or '}'"),
    ('{"a": "x\ty"}', 1, 9, 'raw control character'),
    ('{"a": "\\q"}', 1, 8, 'invalid escape'),
    ('{"a": 1}\n{"b": 2}', 2, 1, 'extra data after the top-level JSON object'),
    ('{"model": 4}', 1, 11, 'the top-level "model" value must be a string, found a number'),
    ('{"model": null}', 1, 11, 'found null'),
    ('{"model": {"id": "x"}}', 1, 11, 'found an object'),
    ('{\n  "model": "a",\n  "b": 1,\n  "model": "b"\n}', 4, 3,
     'duplicate top-level "model" key (the first one is at line 2, column 3)'),
    ('{"model": "a", "mod\\u0065l": "b"}', 1, 16, 'duplicate top-level "model" key'),
    ('\ufeff{}', 1, 1, 'byte order mark'),
])
def test_invalid_documents_report_line_and_column(text, line, column, fragment):
    with pytest.raises(SettingsError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert fragment in caught.value.message
    assert str(caught.value).startswith('line %d, column %d: ' % (line, column))
    for function in (read_model, lambda t: update_model(t, None), lambda t: set_model(t, 'x')):
        with pytest.raises(SettingsError):
            function(text)


def test_duplicate_other_keys_are_allowed_like_json_parse():
    assert read_model('{"a": 1, "a": 2, "model": "m"}') == 'm'


def test_describe_names_the_path():
    with pytest.raises(SettingsError) as caught:
        parse('{"a": 1,}')
    assert caught.value.describe('/x/settings.json') == (
        '/x/settings.json: line 1, column 8: trailing comma is not allowed in strict JSON '
        '(Claude Code would reject this file too)')


def test_deep_nesting_is_an_error_not_a_crash():
    text = '{"a": ' + '[' * 100000 + ']' * 100000 + '}'
    with pytest.raises(SettingsError) as caught:
        parse(text)
    assert 'nested too deeply' in caught.value.message


def test_errors_never_quote_content():
    text = CLAUDE_STYLE.replace('"' + SECRET + '",', '"' + SECRET + '", ,')
    with pytest.raises(SettingsError) as caught:
        parse(text)
    assert SECRET not in str(caught.value)


# -- bytes ----------------------------------------------------------------------------------------------------------------

def test_decode_utf8():
    assert decode(CLAUDE_STYLE.encode('utf-8')) == CLAUDE_STYLE


def test_decode_rejects_bom():
    with pytest.raises(SettingsError) as caught:
        decode(b'\xef\xbb\xbf{"model": "x"}')
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert 'byte order mark' in caught.value.message


@pytest.mark.parametrize('data, line, column', [
    (b'{"a": "\xff"}', 1, 8),
    (b'{\n  "\xc3\xa9": "\xe9t\xe9"\n}', 2, 9),
    (b'{"a": "\xed\xa0\x80"}', 1, 8),
])
def test_decode_rejects_invalid_utf8_with_position(data, line, column):
    with pytest.raises(SettingsError) as caught:
        decode(data)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert 'UTF-8' in caught.value.message


# -- model names ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('model', [
    'sonnet', 'opus', 'haiku', 'opusplan', 'sonnet[1m]', 'claude-sonnet-4-6', 'claude-haiku-4-5-20251001',
    'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5@20251001',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc', 'x' * MAX_MODEL_LENGTH,
])
def test_valid_model_names(model):
    validate_model(model)


@pytest.mark.parametrize('model, fragment', [
    ('', 'non-empty'),
    ('claude sonnet', 'whitespace at position 7'),
    (' sonnet', 'whitespace at position 1'),
    ('sonnet\n', 'whitespace'),
    ('son\tnet', 'whitespace'),
    ('sonnet\u00a0', 'whitespace'),
    ('sonnet\u2028', 'whitespace'),
    ('sonnet\x00', 'U+0000'),
    ('sonnet\x7f', 'U+007F'),
    ('sonnet\u200b', 'U+200B'),
    ('sonnet\ufeff', 'U+FEFF'),
    ('x' * (MAX_MODEL_LENGTH + 1), 'is 257 characters long'),
])
def test_invalid_model_names_are_quoted(model, fragment):
    with pytest.raises(ValueError) as caught:
        validate_model(model)
    message = str(caught.value)
    assert fragment in message
    assert json.dumps(model[:20])[:-1] in message


# -- property-based tests -------------------------------------------------------------------------------------------------

WHITESPACE = st.sampled_from(['', '', ' ', '  ', '\n', '\n  ', '\n\t', '\t', '\r\n', '\n\n    '])
KEYS = st.text(st.characters(codec='utf-8'), max_size=8).filter(lambda key: key != 'model')
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-10 ** 20, max_value=10 ** 20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(codec='utf-8'), max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=10,
)
MODELS = st.text(
    st.characters(codec='utf-8', exclude_categories=('Cc', 'Cf', 'Cs', 'Zs', 'Zl', 'Zp')), min_size=1, max_size=40,
).filter(lambda text: not any(char.isspace() for char in text))


def encode_string(value, style):
    if style == 'ascii':
        return json.dumps(value)
    if style == 'escaped':
        units = value.encode('utf-16-be')
        return '"' + ''.join('\\u%02x%02x' % (units[i], units[i + 1]) for i in range(0, len(units), 2)) + '"'
    return json.dumps(value, ensure_ascii=False)


class Renderer(object):
    """Serialise a value with random whitespace and string escapes, remembering the span of the top-level model."""

    def __init__(self, draw):
        self.draw = draw
        self.parts = []
        self.length = 0
        self.model_span = None

    def emit(self, text):
        self.parts.append(text)
        self.length += len(text)

    def ws(self):
        self.emit(self.draw(WHITESPACE))

    def string(self, value):
        self.emit(encode_string(value, self.draw(st.sampled_from(['utf8', 'ascii', 'escaped']))))

    def value(self, value, top_level_model=False):
        start = self.length
        if isinstance(value, dict):
            self.emit('{')
            for index, (key, item) in enumerate(value.items()):
                self.ws()
                self.string(key)
                self.ws()
                self.emit(':')
                self.ws()
                self.value(item)
                self.ws()
                if index + 1 < len(value):
                    self.emit(',')
            if not value:
                self.ws()
            self.emit('}')
        elif isinstance(value, list):
            self.emit('[')
            for index, item in enumerate(value):
                self.ws()
                self.value(item)
                self.ws()
                if index + 1 < len(value):
                    self.emit(',')
            if not value:
                self.ws()
            self.emit(']')
        elif isinstance(value, str):
            self.string(value)
        else:
            self.emit(json.dumps(value))
        if top_level_model:
            self.model_span = (start, self.length)

    def document(self, value):
        self.ws()
        self.emit('{')
        for index, (key, item) in enumerate(value.items()):
            self.ws()
            self.string(key)
            self.ws()
            self.emit(':')
            self.ws()
            self.value(item, top_level_model=(key == 'model'))
            self.ws()
            if index + 1 < len(value):
                self.emit(',')
        if not value:
            self.ws()
        self.emit('}')
        self.ws()
        return ''.join(self.parts)


@st.composite
def documents(draw, with_model=None):
    """(text, parsed value, span of the model value or None) of a random settings-like document."""
    content = draw(st.dictionaries(KEYS, VALUES, max_size=6))
    if draw(st.booleans()):
        content['env'] = {'ANTHROPIC_API_KEY': SECRET, 'ANTHROPIC_MODEL': draw(MODELS)}
    if with_model is None:
        with_model = draw(st.booleans())
    if with_model:
        items = list(content.items())
        items.insert(draw(st.integers(0, len(items))), ('model', draw(MODELS)))
        content = dict(items)
    renderer = Renderer(draw)
    text = renderer.document(content)
    return text, content, renderer.model_span


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(documents(with_model=True), MODELS)
def test_property_set_existing_keeps_every_byte_outside_the_value(document, model):
    text, content, (start, end) = document
    new = set_model(text, model)
    if content['model'] == model:
        assert new is text
    else:
        assert new == text[:start] + json.dumps(model, ensure_ascii=False) + text[end:]
    assert json.loads(new) == dict(content, model=model)


@PROPERTY_SETTINGS
@given(documents(with_model=False), MODELS)
def test_property_add_missing_key_keeps_the_rest(document, model):
    text, content, dummy = document
    new = set_model(text, model)
    parsed = json.loads(new)
    assert parsed == dict(content, model=model)
    assert list(parsed) == list(content) + ['model']
    # The original is the result minus one contiguous inserted run.
    if not content:
        # An empty object gets Claude Code's layout; the bytes around the braces stay.
        assert new.startswith(text[:text.index('{') + 1]) and new.endswith(text[text.rindex('}'):])
        return
    prefix = 0
    while prefix < len(text) and text[prefix] == new[prefix]:
        prefix += 1
    inserted = len(new) - len(text)
    assert new[:prefix] + new[prefix + inserted:] == text
    assert re.match(r'[ \t\r\n]*,[ \t\r\n]*"model"[ \t]*:[ \t]*"', new[prefix:prefix + inserted])
    assert update_model(new, None)[1] == text


@PROPERTY_SETTINGS
@given(documents(with_model=True))
def test_property_remove_deletes_one_run_holding_the_member(document):
    text, content, (start, end) = document
    new = update_model(text, None)[1]
    expected = dict(content)
    del expected['model']
    parsed = json.loads(new)
    assert parsed == expected
    assert list(parsed) == list(expected)
    removed = len(text) - len(new)
    prefix = 0
    while prefix < len(new) and text[prefix] == new[prefix]:
        prefix += 1
    # Some run [a, a + removed) with a <= start and end <= a + removed explains the difference.
    assert any(
        text[:a] + text[a + removed:] == new
        for a in range(max(0, end - removed), min(prefix, start) + 1)
    )


@PROPERTY_SETTINGS
@given(documents())
def test_property_read_model_agrees_with_json(document):
    text, content, dummy = document
    assert read_model(text) == json.loads(text).get('model')
    assert read_model(text) == content.get('model')


@PROPERTY_SETTINGS
@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=5), st.booleans(), MODELS,
       st.sampled_from([None, 0, 2, 4, '\t']), st.sampled_from([(', ', ': '), (',', ':')]), st.booleans())
def test_property_inserted_member_follows_json_dumps_style(content, ensure_ascii, model, indent, separators, newline):
    if indent is not None:
        separators = (',', separators[1])
    body = json.dumps(content, indent=indent, separators=separators, ensure_ascii=ensure_ascii)
    member = '"model"' + separators[1] + json.dumps(model, ensure_ascii=False)
    if indent is None:
        expected = body[:-1] + separators[0] + member + '}'
    else:
        expected = body[:-2] + ',\n' + (' ' * indent if isinstance(indent, int) else indent) + member + '\n}'
    tail = '\n' if newline else ''
    assert set_model(body + tail, model) == expected + tail


@pytest.mark.parametrize('inside', ['', ' ', '\n', '\n\n  \t'])
@given(model=MODELS)
def test_property_empty_object_gets_claude_code_layout(inside, model):
    text = ' {' + inside + '}\n'
    assert set_model(text, model) == ' {\n  "model": ' + json.dumps(model, ensure_ascii=False) + '\n}\n'


def strict_reference(text):
    """What a strict parser (JSON.parse plus our rules) thinks: 'ok' or 'error'."""
    def reject(name):
        raise ValueError(name)
    try:
        pairs = json.loads(text, object_pairs_hook=list, parse_constant=reject)
    except (ValueError, RecursionError):
        return 'error'
    if not isinstance(pairs, list) or (pairs and not isinstance(pairs[0], tuple)) or text.lstrip(' \t\r\n')[:1] != '{':
        return 'error'
    models = [value for key, value in pairs if key == 'model']
    if len(models) > 1 or (models and not isinstance(models[0], str)):
        return 'error'
    return 'ok'


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_property_mutated_documents_fail_cleanly_exactly_when_invalid(document, data):
    text = document[0]
    position = data.draw(st.integers(0, len(text)))
    operation = data.draw(st.sampled_from(['delete', 'insert', 'truncate']))
    if operation == 'delete':
        assume(position < len(text))
        mutated = text[:position] + text[position + 1:]
    elif operation == 'insert':
        mutated = text[:position] + data.draw(st.sampled_from(list(',:{}[]"\\/ aN1-\n\t') + ['//', '/**/'])) + text[position:]
    else:
        mutated = text[:position]
    expected = strict_reference(mutated)
    try:
        parse(mutated)
    except SettingsError as exc:
        assert expected == 'error'
        assert SECRET not in str(exc)
        assert exc.line >= 1 and exc.column >= 1
        assert exc.line <= mutated.count('\n') + 1
    else:
        assert expected == 'ok'


@PROPERTY_SETTINGS
@given(documents(with_model=True), MODELS, MODELS)
def test_property_set_is_idempotent_and_reversible(document, first, second):
    text, content, dummy = document
    once = set_model(text, first)
    assert set_model(once, first) is once
    again = set_model(set_model(once, second), first)
    assert json.loads(again) == json.loads(once)
    if content['model'] != first:
        assert again == once


@pytest.mark.parametrize('text, expected', [
    # Non-ASCII text, \u escapes and an emoji outside the value come back byte for byte.
    (CLAUDE_STYLE, CLAUDE_STYLE.replace('"claude-haiku-4-5-20251001"', '"claude-sonnet-4-6"')),
    ('{"a": "\u00e9t\u00e9"}', '{"a": "\u00e9t\u00e9", "model": "claude-sonnet-4-6"}'),
    ('{}', '{\n  "model": "claude-sonnet-4-6"\n}'),
])
def test_byte_round_trip_through_utf8(text, expected):
    data = set_model(decode(text.encode('utf-8')), 'claude-sonnet-4-6').encode('utf-8')
    assert data == expected.encode('utf-8')


# -- a string at a key path (agent config files) -------------------------------------------------------------------------

NESTED = (
    '{\n'
    '  "name": "validator",\n'
    '  "agent": {"model": "claude-sonnet-4-6", "temperature": 1.0e0},\n'
    '  "greeting": "gr\\u00fc\\u00df",\n'
    '  "agent": {"model": "claude-opus-4-5", "max_tokens": 4096}\n'
    '}'
)


@pytest.mark.parametrize('text, path, expected', [
    # Duplicate keys: the last one is the one a decoder uses, so that one changes.
    (NESTED, ['agent', 'model'], NESTED.replace('"claude-opus-4-5"', '"claude-haiku-4-5"')),
    ('{"b": 1,   "model": "x"}\n', ['model'], '{"b": 1,   "model": "claude-haiku-4-5"}\n'),
    ('{\n\t"b": 1\n}', ['model'], '{\n\t"b": 1,\n\t"model": "claude-haiku-4-5"\n}'),
    ('{"env": {"ANTHROPIC_MODEL": "opus", "K": "v"}}', ['env', 'ANTHROPIC_MODEL'],
     '{"env": {"ANTHROPIC_MODEL": "claude-haiku-4-5", "K": "v"}}'),
    # A missing key: the document is written again in the file's layout.
    ('{"agent": {"x": 1}}', ['agent', 'model'], '{"agent": {"x": 1, "model": "claude-haiku-4-5"}}'),
    ('{\r\n  "a": {}\r\n}\r\n', ['a', 'model'], '{\r\n  "a": {\r\n    "model": "claude-haiku-4-5"\r\n  }\r\n}\r\n'),
])
def test_set_path_changes_as_little_as_possible(text, path, expected):
    new = set_path(text, path, 'claude-haiku-4-5')
    assert new == expected
    assert set_path(new, path, 'claude-haiku-4-5') is new


@pytest.mark.parametrize('indent', ['  ', '    ', '\t'])
def test_set_path_missing_nested_key_is_added_in_the_files_indentation(indent):
    text = '{\n%s"name": "w",\n%s"agent": {}\n}\n' % (indent, indent)
    new = set_path(text, ['agent', 'llm', 'model'], 'claude-haiku-4-5')
    expected = {'name': 'w', 'agent': {'llm': {'model': 'claude-haiku-4-5'}}}
    assert new == json.dumps(expected, indent=indent) + '\n'


@pytest.mark.parametrize('text, fragment', [
    ('{"agent": "string"}', "cannot set 'agent.model': 'agent' is not a JSON object"),
    ('{"agent": [1]}', "'agent' is not a JSON object"),
    ('[1, 2]', "'(top level)' is not a JSON object"),
    ('{"agent": {"model": "x"},}', 'trailing comma'),
    ('{"agent": {"model": NaN}}', 'NaN is not allowed'),
])
def test_set_path_refuses_what_it_cannot_edit(text, fragment):
    with pytest.raises(SettingsError) as caught:
        set_path(text, ['agent', 'model'], 'm')
    assert fragment in str(caught.value)


PATH_KEYS = st.text(alphabet='abcdefgh_-"\\ \u00e9', min_size=1, max_size=6)
PATH_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                        st.floats(allow_nan=False, allow_infinity=False))
PATH_DOCUMENTS = st.recursive(PATH_LEAVES, lambda children: st.dictionaries(PATH_KEYS, children, max_size=4),
                              max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(document=st.dictionaries(PATH_KEYS, PATH_DOCUMENTS, max_size=5), path=st.lists(PATH_KEYS, min_size=1, max_size=3),
       indent=st.sampled_from([None, 2, 4, '\t']), model=st.sampled_from(['claude-haiku-4-5', 'm\u00e9"x']))
def test_property_set_path_sets_exactly_the_field(document, path, indent, model):
    text = json.dumps(document, indent=indent)
    try:
        new = set_path(text, path, model)
    except SettingsError:
        node = document
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else None
        assert not isinstance(node, dict)
        return
    expected = json.loads(text)
    node = expected
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = model
    assert json.loads(new) == expected
