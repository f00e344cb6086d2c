# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the Claude Code CLI does with a model setting, per CLI version: data for model_resolution.

Every fact below was observed by running the real CLI, never read from documentation. The probe, for each
comment: as an unprivileged user with a fresh HOME and project directory, a Messages API stand-in
(``python3 tests/messages_api/server.py --port 0 --port-file F --log L``) and
``ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=sk-ant-probe CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
claude -p hi`` run in the project directory; "X -> Y" means: with X set (by default as ``{"model": X}`` in
``.claude/settings.json``) the stand-in's log showed a request for model Y. 2026-11-30, 2.1.328 from npm,
2.1.327 from its linux-x64 tarball. The conformance suite (tests/conformance) re-checks them under systemd.

A version missing here is unknown: model_resolution then says so instead of guessing. Add a version only
after running the probes against it.
"""

from __future__ import annotations

import copy

_FACTS_2_1_328 = {
    # Lowercased alias -> (family of its ANTHROPIC_DEFAULT_<FAMILY>_MODEL variable, ID requested without it).
    # sonnet -> claude-sonnet-5-5, haiku -> claude-haiku-5-5, opus -> claude-opus-5-5, opusplan -> claude-sonnet-5-5
    # (the plan mode is not in a -p run), best -> claude-opus-5-5, fable -> claude-fable-5-2; Sonnet, SONNET and
    # "  sonnet  " -> claude-sonnet-5-5 (case and surrounding blanks do not matter); "mythos" -> mythos (no alias).
    # ANTHROPIC_DEFAULT_SONNET_MODEL=claude-sonnet-4-6 with sonnet -> claude-sonnet-4-6 (also with opusplan, also set
    # in the user file's env block); _HAIKU_=claude-haiku-4-5 with haiku -> claude-haiku-4-5; _OPUS_=claude-opus-4-6
    # with opus or best -> claude-opus-4-6; _FABLE_=claude-fable-5 with fable -> claude-fable-5;
    # _OPUS_ with opusplan -> claude-sonnet-5-5 (unaffected); _SONNET_="" with sonnet -> claude-sonnet-5-5.
    'aliases': {
        'sonnet': ('SONNET', 'claude-sonnet-5-5'),
        'haiku': ('HAIKU', 'claude-haiku-5-5'),
        'opus': ('OPUS', 'claude-opus-5-5'),
        'opusplan': ('SONNET', 'claude-sonnet-5-5'),
        'best': ('OPUS', 'claude-opus-5-5'),
        'fable': ('FABLE', 'claude-fable-5-2'),
    },
    # The value of ANTHROPIC_DEFAULT_<FAMILY>_MODEL is requested as written, never resolved again:
    # _SONNET_=haiku with sonnet -> haiku; _OPUS_=claude-opus-4-1 with opus -> claude-opus-4-1 (no remap).
    'alias_variable': 'ANTHROPIC_DEFAULT_%s_MODEL',
    # A context-window suffix is dropped from the request, in any case: sonnet[1m] -> claude-sonnet-5-5,
    # opus[1m] -> claude-opus-5-5, claude-sonnet-4-6[1m] and claude-sonnet-4-6[1M] -> claude-sonnet-4-6.
    'suffixes': ('[1m]',),
    # No model anywhere -> claude-opus-5-5 (the opus alias: ANTHROPIC_DEFAULT_OPUS_MODEL=claude-opus-4-6 alone ->
    # claude-opus-4-6; ANTHROPIC_DEFAULT_SONNET_MODEL alone -> claude-opus-5-5). ANTHROPIC_DEFAULT_MODEL replaces
    # it and is resolved like a setting: =claude-sonnet-4-6 -> claude-sonnet-4-6 (also with _OPUS_ set, also from
    # the user file's env block), =sonnet -> claude-sonnet-5-5, =claude-opus-4-1 -> claude-opus-5-5; with a model
    # in the project file it changes nothing (claude-haiku-4-5 -> claude-haiku-4-5).
    'default_alias': 'opus',
    'default_variable': 'ANTHROPIC_DEFAULT_MODEL',
    # Found by the conformance suite: ANTHROPIC_DEFAULT_MODEL=haiku -> claude-opus-5-5 (also Haiku, haiku[1m], in the
    # user file's env block, and with ANTHROPIC_DEFAULT_HAIKU_MODEL=claude-haiku-4-5 set); =opusplan -> claude-opus-5-5;
    # with ANTHROPIC_DEFAULT_OPUS_MODEL=claude-opus-4-6 and =haiku -> claude-opus-4-6: these aliases are refused there
    # and the built-in default stays. =sonnet, SONNET, " sonnet ", sonnet[1m] -> claude-sonnet-5-5; =fable ->
    # claude-fable-5-2; =opus, =best -> claude-opus-5-5; =my-model -> my-model; =claude-haiku-4-5 -> claude-haiku-4-5.
    'default_variable_refuses': ('haiku', 'opusplan'),
    # --model default -> claude-opus-5-5, but "default" as "model" or as ANTHROPIC_MODEL -> default (sent as is).
    'flag_default': 'default',
    # Legacy IDs (compared lowercased, suffix dropped) are requested as the opus alias:
    # claude-opus-4-0, claude-opus-4-1, claude-opus-4-1-20250805, claude-opus-4-20250514, Claude-Opus-4-1,
    # claude-opus-4-1[1m], claude-opus-4-0[1m] -> claude-opus-5-5 (stderr: "... is automatically remapped to Opus 5.5");
    # with ANTHROPIC_DEFAULT_OPUS_MODEL=claude-opus-4-6 -> claude-opus-4-6, with it =sonnet -> sonnet.
    # Not remapped (sent as written): claude-opus-4, claude-opus-4-0-20250514, claude-opus-4-1-x,
    # us.anthropic.claude-opus-4-1-20250805-v1:0, claude-opus-4-5 and every other ID tried.
    # The same through ANTHROPIC_MODEL=claude-opus-4-1 and --model claude-opus-4-1 -> claude-opus-5-5.
    'legacy_remap': ('claude-opus-4-0', 'claude-opus-4-1', 'claude-opus-4-1-20250805', 'claude-opus-4-20250514'),
    # CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP with claude-opus-4-1: 1, true, TRUE, yes, on, " 1" -> claude-opus-4-1;
    # 0, 2, "" -> claude-opus-5-5; in the user file's env block true (a JSON boolean) and 1 (a number) -> claude-opus-4-1.
    'remap_variable': 'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP',
    'truthy': ('1', 'true', 'yes', 'on'),
    # IDs the CLI knows are sent lowercased (Claude-Sonnet-4-6 -> claude-sonnet-4-6, Claude-Haiku-4-5-20251001 ->
    # claude-haiku-4-5-20251001); any other is sent exactly as written (My-Custom-Model -> My-Custom-Model,
    # my-custom-model, default, mythos -> as written). Each of these IDs, set in lowercase, -> itself.
    'known_ids': (
        'claude-3-5-sonnet', 'claude-3-7-sonnet', 'claude-fable-5', 'claude-fable-5-1', 'claude-fable-5-2',
        'claude-haiku-4-5', 'claude-haiku-5-5', 'claude-mythos-5', 'claude-mythos-5-1', 'claude-mythos-5-2',
        'claude-opus-4-5', 'claude-opus-4-6', 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-5', 'claude-opus-5-5',
        'claude-sonnet-4-0', 'claude-sonnet-4-5', 'claude-sonnet-4-6', 'claude-sonnet-5', 'claude-sonnet-5-5',
        'claude-haiku-4-5-20251001', 'claude-3-opus-20240229', 'claude-3-5-haiku-20241022',
    ),
    # availableModels (a list in ANY settings file, all lists together: user [claude-sonnet-4-6] + project
    # [claude-haiku-4-5] with claude-haiku-4-5 -> claude-haiku-4-5) restricts the model, compared case-insensitively
    # and without [1m]. An entry that is a family alias allows every ID of that family ([sonnet] with
    # claude-sonnet-4-6 -> claude-sonnet-4-6); an ID entry allows that ID and an alias resolving to it
    # ([claude-sonnet-5-5] with sonnet -> claude-sonnet-5-5). The default model is never restricted
    # ([claude-sonnet-4-6] or [claude-haiku-4-5] with no model -> claude-opus-5-5).
    'family_entries': ('sonnet', 'haiku', 'opus', 'fable'),
    # A restricted family alias falls back to the newest allowed ID of its family, as its first-party ID:
    # [claude-sonnet-4-6] with sonnet -> claude-sonnet-4-6; [claude-sonnet-4-5, claude-sonnet-4-6] (either order)
    # with sonnet -> claude-sonnet-4-6; [claude-opus-4-6] with opus -> claude-opus-4-6; [claude-haiku-4-5] with
    # haiku -> claude-haiku-4-5-20251001; [claude-sonnet-4-6] + ANTHROPIC_DEFAULT_SONNET_MODEL=claude-sonnet-4-5
    # with sonnet -> claude-sonnet-4-6. Anything else restricted falls back to the default:
    # [claude-sonnet-4-6] with claude-haiku-4-5, --model claude-haiku-4-5, ANTHROPIC_MODEL=claude-haiku-4-5 or an
    # env block -> claude-opus-5-5; [] -> claude-opus-5-5; [claude-haiku-4-5] with claude-haiku-5-5 -> claude-opus-5-5;
    # [claude-sonnet-4-6] with opusplan -> claude-opus-5-5; with ANTHROPIC_DEFAULT_MODEL=claude-sonnet-4-6 ->
    # claude-sonnet-4-6; with ANTHROPIC_DEFAULT_OPUS_MODEL=claude-opus-4-6 -> claude-opus-4-6.
    'family_fallback': ('sonnet', 'haiku', 'opus'),
    'first_party_ids': {
        'claude-sonnet-4-6': 'claude-sonnet-4-6',
        'claude-opus-4-6': 'claude-opus-4-6',
        'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
    },
}

# 2.1.327: the same probes gave the same answers (sonnet, haiku, opus, opusplan, best, fable, sonnet[1m], the four
# legacy IDs and Claude-Opus-4-1 -> as in 2.1.328; claude-opus-4-5 -> itself; default -> default; no model ->
# claude-opus-5-5; the remap switch, ANTHROPIC_DEFAULT_OPUS/SONNET_MODEL, ANTHROPIC_DEFAULT_MODEL, a user env block
# over a project model, ANTHROPIC_DEFAULT_MODEL=haiku -> claude-opus-5-5 and =sonnet -> claude-sonnet-5-5,
# [claude-haiku-4-5] with haiku -> claude-haiku-4-5-20251001, [claude-sonnet-4-6] with
# claude-haiku-4-5 -> claude-opus-5-5).
_FACTS_2_1_327 = copy.deepcopy(_FACTS_2_1_328)

FACTS = {
    '2.1.327': _FACTS_2_1_327,
    '2.1.328': _FACTS_2_1_328,
}
