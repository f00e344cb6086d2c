#!/usr/bin/env bash
# Prepare this machine for jada.agent development, the demo and the test suite.
# Idempotent: a second run only checks stamps and finishes in a few seconds.
# Touches nothing outside the checkout except Debian packages, podman's image store and
# ansible-test's pip bootstrap cache (~/.ansible/test/cache). /etc/containers is never edited:
# podman reads the project's own configuration through CONTAINERS_CONF (see hacking/env.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hacking/env.sh
. "$root/hacking/env.sh"

ansible_bundle_version=12.3.0
bundled_collections=(containers/podman amazon/aws ansible/posix community/general)
apt_packages=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs git make openssh-client)
# sha256 of the npm package @ccusage/ccusage-linux-x64, by version (JADA_CCUSAGE_VERSION in hacking/env.sh).
declare -A ccusage_sha256=(
    [20.0.24]=9bb1226e847827df692ffd6696bfbead1f2dd36ee569da6ef80dfe44467ec21b
)

log() { printf '[setup] %s\n' "$*"; }

install_system_packages() {
    install_system_packages_named "${apt_packages[@]}"
}

install_system_packages_named() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

create_virtualenv() {
    local stamp="$JADA_VENV/.requirements.sha256" wanted
    wanted=$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return
    fi
    log "creating virtualenv $JADA_VENV from requirements.txt"
    python3 -m venv "$JADA_VENV"
    "$JADA_VENV/bin/pip" install -q --disable-pip-version-check -r "$root/requirements.txt"
    echo "$wanted" > "$stamp"
}

install_collections() {
    # Galaxy is unreachable; the PyPI wheel of the `ansible` package carries the collections we need.
    local site target stamp wanted wheel
    site=$("$JADA_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    target="$site/ansible_collections"
    stamp="$target/.jada-bundle"
    wanted="$ansible_bundle_version ${bundled_collections[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return
    fi
    wheel="$JADA_WORK/cache/ansible-$ansible_bundle_version-py3-none-any.whl"
    if [ ! -f "$wheel" ]; then
        log "downloading the ansible $ansible_bundle_version wheel (collections only are extracted)"
        "$JADA_VENV/bin/pip" download -q --disable-pip-version-check --no-deps \
            "ansible==$ansible_bundle_version" -d "$JADA_WORK/cache"
    fi
    log "extracting collections: ${bundled_collections[*]}"
    "$JADA_VENV/bin/python" "$root/hacking/extract_collections.py" "$wheel" "$target" \
        "$root/galaxy.yml" "${bundled_collections[@]}"
    echo "$wanted" > "$stamp"
}

write_podman_configuration() {
    # Hard limits cannot be raised here, so containers must start at or below ours.
    local nofile nproc ulimits=()
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    # Measured: runc also refuses an nproc limit above kernel.pid_max, even below the hard limit.
    if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$(cat /proc/sys/kernel/pid_max)" ]; then
        nproc=$(cat /proc/sys/kernel/pid_max)
    fi
    [ "$nofile" = unlimited ] || ulimits+=("\"nofile=$nofile:$nofile\"")
    [ "$nproc" = unlimited ] || ulimits+=("\"nproc=$nproc:$nproc\"")
    mkdir -p "$(dirname "$CONTAINERS_CONF")"
    {
        echo '# Written by hacking/setup.sh; selected with CONTAINERS_CONF. /etc/containers stays untouched.'
        echo '[containers]'
        echo "default_ulimits = [$(IFS=,; echo "${ulimits[*]}")]"
        echo
        echo '[engine]'
        echo '# crun refuses the hybrid cgroup layout of these machines.'
        echo 'runtime = "runc"'
        echo 'events_logger = "file"'
    } > "$CONTAINERS_CONF.new"
    mv "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"
}

build_image() {
    # One image per recipe: images/<name>-<suite>.recipe makes localhost/jada-agent-<name>:<suite>.
    local recipe=$1 image wanted current rootfs stem suite variant include init=''
    stem=$(basename "$recipe" .recipe)
    image="localhost/jada-agent-${stem%-*}:${stem##*-}"
    wanted=$(sha256sum "$recipe" | cut -c1-16)
    current=$(podman image inspect --format '{{ index .Labels "jada.recipe" }}' "$image" 2>/dev/null || true)
    if [ "$current" = "$wanted" ]; then
        return
    fi
    # shellcheck disable=SC1090
    . <(grep -E '^[a-z]+=' "$recipe")
    rootfs=$(mktemp -d "$JADA_WORK/rootfs.XXXXXX")
    log "building $image with debootstrap ($suite, $include); about a minute"
    debootstrap --variant="$variant" --include="$include" "$suite" "$rootfs" >"$JADA_WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$JADA_WORK/debootstrap.log"; rm -rf "$rootfs"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    local changes=(--change "LABEL jada.recipe=$wanted")
    # Only the test images boot systemd; an execution environment's base keeps podman's defaults.
    if [ "$init" = systemd ]; then
        changes+=(--change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3')
    fi
    tar -C "$rootfs" -c . | podman import --quiet "${changes[@]}" - "$image" >/dev/null
    rm -rf "$rootfs"
}

npm_pack_pinned() {
    # TARBALL (the name npm pack gives PACKAGE@VERSION, in its folder), fetched once with npm and checked against
    # SHA256, which is pinned in WHERE; SIZE is only for the log line.
    local tarball=$1 package=$2 version=$3 sha256=$4 where=$5 size=$6
    if [ -f "$tarball" ] && [ -f "$tarball.sha256" ] && [ "$(cat "$tarball.sha256")" = "$sha256" ]; then
        return
    fi
    command -v npm >/dev/null || install_system_packages_named npm
    mkdir -p "$(dirname "$tarball")"
    log "fetching $package@$version with npm ($size, once)"
    (cd "$(dirname "$tarball")" && npm pack --silent "$package@$version" >/dev/null)
    if [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$sha256" ]; then
        echo "$tarball does not have the sha256 pinned in $where ($sha256)" >&2
        rm -f "$tarball"
        exit 1
    fi
    echo "$sha256" > "$tarball.sha256"
}

fetch_claude_code() {
    # A CLI package for the demo and the tests (the pinned version, or the one given), fetched once with npm and
    # checked against the sha256 the orchestrator role pins; the role copies it from here to the hosts (which
    # have no npm).
    local version platform sha256
    read -r version platform sha256 < <("$JADA_VENV/bin/python" - "$root/roles/orchestrator" "${1:-}" <<'PYTHON'
import sys, yaml
defaults = yaml.safe_load(open(sys.argv[1] + '/defaults/main.yml'))
checksums = yaml.safe_load(open(sys.argv[1] + '/vars/main.yml'))["__jada_agent_cli_checksums"]
version, platform = sys.argv[2] or str(defaults["jada_agent_cli_version"]), defaults["jada_agent_cli_platform"]
print(version, platform, checksums[version][platform])
PYTHON
    )
    npm_pack_pinned "$JADA_WORK/cache/claude-code/anthropic-ai-claude-code-$platform-$version.tgz" \
        "@anthropic-ai/claude-code-$platform" "$version" "$sha256" roles/orchestrator/vars/main.yml "about 170 MB"
}

fetch_ccusage() {
    # The native binary only: the ccusage package itself is a Node launcher that looks for it among its optional
    # dependencies, and running the binary directly needs neither Node nor a network.
    local version=$JADA_CCUSAGE_VERSION sha256 tarball
    sha256=${ccusage_sha256[$version]:-}
    if [ -z "$sha256" ]; then
        echo "no sha256 pinned for ccusage $version: add it to ccusage_sha256 in hacking/setup.sh" >&2
        exit 1
    fi
    tarball="$JADA_WORK/cache/ccusage/ccusage-ccusage-linux-x64-$version.tgz"
    npm_pack_pinned "$tarball" @ccusage/ccusage-linux-x64 "$version" "$sha256" hacking/setup.sh "about 2 MB"
    [ -x "$JADA_CCUSAGE" ] && return
    mkdir -p "$(dirname "$JADA_CCUSAGE")"
    # The package leaves the binary without its execute bit; the launcher would chmod it at first run.
    tar -xzOf "$tarball" package/bin/ccusage > "$JADA_CCUSAGE.new"
    chmod 0755 "$JADA_CCUSAGE.new"
    mv "$JADA_CCUSAGE.new" "$JADA_CCUSAGE"
}

prime_ansible_test_pip_bootstrap() {
    # ansible-test downloads get-pip.py from a host these machines cannot reach; it uses this cache first.
    local cache="$HOME/.ansible/test/cache"
    mkdir -p "$cache"
    if [ ! -f "$cache/pip-24.2-py3-none-any.whl" ]; then
        "$JADA_VENV/bin/pip" download -q --disable-pip-version-check --no-deps pip==24.2 -d "$cache"
    fi
    cmp -s "$root/hacking/get_pip_offline.py" "$cache/get_pip_24_2.py" \
        || cp "$root/hacking/get_pip_offline.py" "$cache/get_pip_24_2.py"
}

main() {
    local started=$SECONDS
    mkdir -p "$JADA_WORK/cache"
    install_system_packages
    create_virtualenv
    install_collections
    write_podman_configuration
    for recipe in "$root"/images/*.recipe; do
        build_image "$recipe"
    done
    fetch_claude_code
    # The version the Molecule orchestrators start from, so every rollout there also moves the CLI.
    fetch_claude_code "$JADA_PREVIOUS_CLAUDE_CODE_VERSION"
    fetch_ccusage
    prime_ansible_test_pip_bootstrap
    log "ready in $((SECONDS - started)) s (virtualenv $JADA_VENV, image $JADA_TEST_IMAGE)"
}

main "$@"
