"""Extract collections from the PyPI wheel of the ``ansible`` package (Galaxy is unreachable here).

Usage: extract_collections.py WHEEL TARGET_DIR GALAXY_YML NAMESPACE/NAME...

Fails when a collection the wheel carries does not satisfy the range galaxy.yml declares for it.
"""

import json
import os
import shutil
import sys
import zipfile

import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements


def extract(wheel_path, target, galaxy_yml, collections):
    with open(galaxy_yml, encoding='utf-8') as handle:
        ranges = yaml.safe_load(handle).get('dependencies') or {}
    with zipfile.ZipFile(wheel_path) as wheel:
        names = wheel.namelist()
        for collection in collections:
            prefix = 'ansible_collections/%s/' % collection
            manifest = json.loads(wheel.read(prefix + 'MANIFEST.json'))
            version = manifest['collection_info']['version']
            wanted = ranges.get(collection.replace('/', '.'), '*')
            if not meets_requirements(version, wanted):
                sys.exit('%s %s from %s does not satisfy %s in galaxy.yml' % (collection, version, wheel_path, wanted))
            destination = os.path.join(target, collection)
            shutil.rmtree(destination, ignore_errors=True)
            for name in names:
                if name.startswith(prefix) and not name.endswith('/'):
                    wheel.extract(name, os.path.dirname(target))
            print('%s %s (galaxy.yml wants %s)' % (collection.replace('/', '.'), version, wanted))


if __name__ == '__main__':
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    extract(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
