"""Write each role's README.md from its meta/argument_specs.yml, the one source of its documentation.

Usage: role_readmes.py [--check]
With --check nothing is written; the exit status is 1 when a README differs from what the spec gives.
"""

import glob
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKUP = re.compile(r'\b([CIVOM]|RV)\(([^)]*)\)')


def plain(text):
    """Ansible doc markup to Markdown: C(x) / O(x) / V(x) -> `x`, I(x) -> *x*, M(x) -> `x`."""
    def replace(match):
        kind, value = match.groups()
        return '*%s*' % value if kind == 'I' else '`%s`' % value
    return MARKUP.sub(replace, str(text))


def lines_of(description):
    if description is None:
        return []
    return [plain(line) for line in (description if isinstance(description, list) else [description])]


def cell(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def render(role, spec):
    main = spec['argument_specs']['main']
    out = ['# Role jada.agent.%s' % role, '', plain(main.get('short_description', '')), '']
    out += [line + '\n' for line in lines_of(main.get('description'))]
    out += ['## Variables', '', '| Variable | Type | Default | Description |', '|---|---|---|---|']
    for name, option in sorted(main.get('options', {}).items()):
        kind = option.get('type', 'str')
        if option.get('elements'):
            kind += ' of ' + option['elements']
        if 'choices' in option:
            kind += ' (%s)' % ', '.join(str(choice) for choice in option['choices'])
        if option.get('required'):
            default = '*required*'
        elif 'default' in option:
            default = '`%s`' % yaml.safe_dump(option['default'], default_flow_style=True, width=1000).strip()
            default = default.replace('\n...', '').replace('`...`', '`null`')
        else:
            default = ''
        out.append('| `%s` | %s | %s | %s |' % (name, kind, cell(default), cell(' '.join(lines_of(option.get('description'))))))
    out += ['', 'Generated from `meta/argument_specs.yml` by `hacking/role_readmes.py`; ansible-core validates the',
            'variables against the same spec when the role runs. `ansible-doc -t role jada.agent.%s` shows it too.' % role, '']
    return '\n'.join(out)


def spec_mismatches(role_dir, spec):
    """Variables of defaults/main.yml that the spec lacks or documents with another default."""
    defaults_path = os.path.join(role_dir, 'defaults', 'main.yml')
    if not os.path.exists(defaults_path):
        return []
    with open(defaults_path) as handle:
        defaults = yaml.safe_load(handle) or {}
    options = spec['argument_specs']['main'].get('options', {})
    problems = []
    for name, value in defaults.items():
        if name not in options:
            problems.append('%s is in defaults/main.yml but not in meta/argument_specs.yml' % name)
        elif options[name].get('default') != value and not (value is None and 'default' not in options[name]):
            problems.append('%s defaults to %r in defaults/main.yml but to %r in meta/argument_specs.yml'
                            % (name, value, options[name].get('default')))
    return ['%s: %s' % (os.path.basename(role_dir), problem) for problem in problems]


def main():
    check = '--check' in sys.argv[1:]
    stale = []
    problems = []
    for spec_path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role_dir = os.path.dirname(os.path.dirname(spec_path))
        role = os.path.basename(role_dir)
        with open(spec_path) as handle:
            spec = yaml.safe_load(handle)
        problems += spec_mismatches(role_dir, spec)
        text = render(role, spec)
        readme = os.path.join(role_dir, 'README.md')
        current = open(readme).read() if os.path.exists(readme) else None
        if current != text:
            stale.append(os.path.relpath(readme, ROOT))
            if not check:
                with open(readme, 'w') as handle:
                    handle.write(text)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    if check and stale:
        print('out of date with meta/argument_specs.yml (run python hacking/role_readmes.py): %s' % ', '.join(stale))
        return 1
    print('role READMEs %s: %s' % ('checked' if check else 'written',
                                   ', '.join(sorted(os.listdir(os.path.join(ROOT, 'roles'))))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
