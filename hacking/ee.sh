#!/usr/bin/env bash
# Builds the execution environment of execution-environment.yml, offline, and prints its image name.
#
# The collections come from tarballs built here (jada.agent from this checkout; amazon.aws and ansible.posix from
# the `ansible` wheel, made installable). `ansible-builder build` runs with no network: pip in every build stage reads
# a local wheelhouse (mounted with a pip.conf for the build only; the image keeps just their empty mount points). The
# image carries a label with the digest of everything it is made of, and is not rebuilt while that digest is unchanged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hacking/env.sh
. "$root/hacking/env.sh"
cd "$root"

ee="$JADA_WORK/ee"
base=$(python -c 'import yaml; print(yaml.safe_load(open("execution-environment.yml"))["images"]["base_image"]["name"])')
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
image="localhost/jada-agent-ee:$version"
site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
log() { printf '[ee] %s\n' "$*" >&2; }

grep -q "collections/jada-agent-$version.tar.gz" execution-environment.yml \
    || { echo "execution-environment.yml does not name jada-agent-$version.tar.gz (galaxy.yml's version)" >&2; exit 1; }
podman image exists "$base" || { echo "$base is missing: hacking/setup.sh builds it" >&2; exit 1; }

rm -rf ee-build "$ee/collections" && mkdir -p ee-build "$ee/collections"
ansible-galaxy collection build --force --output-path ee-build . >/dev/null
python hacking/collection_tarball.py "$site/ansible_collections/amazon/aws" ee-build/amazon-aws.tar.gz >&2
python hacking/collection_tarball.py "$site/ansible_collections/ansible/posix" ee-build/ansible-posix.tar.gz >&2
# Installing them offline here first: what the image's galaxy stage will do, and what introspection reads.
ANSIBLE_COLLECTIONS_PATH="$ee/collections" ansible-galaxy collection install --offline --force -p "$ee/collections" \
    ee-build/*.tar.gz >/dev/null

# Every Python package a build stage installs: ansible-core and ansible-runner as execution-environment.yml pins
# them, what the collections' meta/execution-environment.yml files ask for, and ansible-builder's own build-time
# packages (bindep, pyyaml, packaging in the builder stage; dumb-init in the final one).
ansible-builder introspect --sanitize --write-pip "$ee/collection-requirements.txt" "$ee/collections" >/dev/null
python - > "$ee/requirements.txt" <<'PYTHON'
import yaml
dependencies = yaml.safe_load(open('execution-environment.yml'))['dependencies']
print(dependencies['ansible_core']['package_pip'])
print(dependencies['ansible_runner']['package_pip'])
print('bindep\npyyaml\npackaging\ndumb-init==1.2.5')
PYTHON
sed 's/ *#.*//' "$ee/collection-requirements.txt" | grep -v '^$' >> "$ee/requirements.txt"
# The wheels are for the base's Python (this machine's platform tags; both are glibc x86-64).
python_version=$(podman run --rm --network=none "$base" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
wheels="$JADA_WORK/cache/ee-wheels/$( (echo "$python_version"; sort "$ee/requirements.txt") | sha256sum | cut -c1-16)"
if [ ! -f "$wheels/.complete" ]; then
    log "downloading the wheelhouse for Python $python_version (once per requirement list)"
    rm -rf "$wheels" && mkdir -p "$wheels"
    pip download -q --disable-pip-version-check --only-binary=:all: --python-version "$python_version" -d "$wheels" -r "$ee/requirements.txt" \
        2> "$ee/pip-download.log" || { tail -20 "$ee/pip-download.log" >&2; exit 1; }
    touch "$wheels/.complete"
fi
printf '[global]\nno-index = true\nfind-links = /wheels\n' > "$ee/pip.conf"

# What the image is made of: the base, the definition, this script, the wheelhouse, and each collection's own file
# digests (a tarball's bytes change with every build, its MANIFEST.json and FILES.json only with its content).
digest=$( {
    podman image inspect --format '{{.Id}}' "$base"
    cat execution-environment.yml "$ee/requirements.txt" "$root/hacking/ee.sh"
    ls "$wheels"
    for tarball in ee-build/*.tar.gz; do tar -xOzf "$tarball" MANIFEST.json FILES.json; done
} | sha256sum | cut -c1-16)
current=$(podman image inspect --format '{{ index .Labels "jada.ee" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$digest" ]; then
    log "$image is up to date ($digest)"
    echo "$image"
    exit 0
fi
log "building $image offline with ansible-builder"
rm -rf "$ee/context"
ansible-builder build -f execution-environment.yml --context "$ee/context" --tag "$image" \
    --container-runtime podman \
    --extra-build-cli-args "--network=none -v $wheels:/wheels:ro -v $ee/pip.conf:/etc/pip.conf:ro --label jada.ee=$digest" \
    > "$ee/build.log" 2>&1 || { tail -40 "$ee/build.log" >&2; echo "ansible-builder build failed: $ee/build.log" >&2; exit 1; }
log "$image built ($digest)"
echo "$image"
