"""Make an installable tarball of a collection that came inside the PyPI wheel of ``ansible``.

Usage: collection_tarball.py COLLECTION_DIR OUTPUT_TARBALL

The wheel strips files (``.github/``, tests) that the collection's FILES.json still lists, so
``ansible-galaxy collection install`` of the directory as it is fails ("Unable to extract '.github'").
The tarball is built by ``ansible-galaxy collection build`` from the files that are there, with a galaxy.yml
made from the collection's own MANIFEST.json, so its FILES.json lists what it holds.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml


def galaxy_yml(collection_info):
    """galaxy.yml keys are MANIFEST.json's collection_info; a collection declares a license or a license file."""
    info = {key: value for key, value in collection_info.items() if value not in (None, [], '')}
    info.setdefault('readme', 'README.md')
    return info


def build(collection_dir, output):
    with open(os.path.join(collection_dir, 'MANIFEST.json'), encoding='utf-8') as handle:
        info = json.load(handle)['collection_info']
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, 'src')
        shutil.copytree(collection_dir, source, ignore=shutil.ignore_patterns(
            'MANIFEST.json', 'FILES.json', '__pycache__'))
        with open(os.path.join(source, 'galaxy.yml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump(galaxy_yml(info), handle, sort_keys=False)
        subprocess.run(['ansible-galaxy', 'collection', 'build', '--force', '--output-path', work, source],
                       check=True, stdout=subprocess.DEVNULL)
        built = os.path.join(work, '%s-%s-%s.tar.gz' % (info['namespace'], info['name'], info['version']))
        shutil.move(built, output)
    print('%s.%s %s -> %s' % (info['namespace'], info['name'], info['version'], output))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
