#!/bin/sh
# The test of the set-up: scripts/refs.sh gives the same trees on a machine
# whose own apt and dpkg state would mislead it. Simulates, in a private
# mount namespace (unshare -m: nothing changes outside it), a host where
#   - the kernel packages of each tree (linux-image-amd64, linux-headers-amd64,
#     linux-headers-ABI-amd64, -common and linux-kbuild) are installed in a
#     newer point release that no suite has (/var/lib/dpkg/status),
#   - apt.conf.d sets a default release and a foreign architecture,
#     preferences.d forbids the kernels of trixie, sources.list.d holds a
#     source that cannot be reached,
# and checks there that:
#   1. the simulation is real: apt sees the newer versions installed, and
#      apt resolving with the host's status (what refs.sh did before) fails
#      as on such machines ("Can't find a source to download version");
#   2. `refs.sh plan` resolves the same pins as outside;
#   3. `refs.sh tools trees headers` succeeds and leaves every tree's pin as
#      it was;
#   4. `refs.sh fetch` downloads a pinned linux-kbuild (a scratch cache: a
#      real download of ~1.5 MB), and the .deb is that version;
#   5. `refs.sh fetch` of the "installed" version, which the archive lacks,
#      fails (exit 1) with one line naming the package and the version.
# And outside it: 6. a cache that cannot be made fails with the real message.
# Prints PASS/FAIL per check; exits 1 on any FAIL. Cheap when the cache is
# warm (it fills it first if not). Needs root (unshare -m, mount --bind).
#   scripts/test-setup.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
refs=$here/scripts/refs.sh
[ "$(id -u)" = 0 ] || { echo "test-setup.sh: needs root (a private mount namespace: unshare -m)" >&2; exit 2; }
command -v unshare >/dev/null 2>&1 || { echo "test-setup.sh: unshare (util-linux) missing" >&2; exit 2; }

cache=$("$refs" tools trees headers)
work=$(mktemp -d "$cache/.test-setup.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
"$refs" plan > "$work/plan.out"
sed '$d' "$work/plan.out" > "$work/plan"
[ -s "$work/plan" ] || { echo "test-setup.sh: refs.sh plan printed no pins" >&2; exit 1; }
for t in 6.1 6.12 6.12-bpo; do echo "$t $(cat "$cache/trees/$t/.pin") $(cat "$cache/trees/$t-headers/.pin")"; done > "$work/tree-pins"

# the hostile host: the status of this machine plus each tree's kernel
# packages "installed" at a newer point release (VERSION with its upstream
# part's last number raised by 1000)
newer() { echo "$1" | awk -F- '{ n = split($1, u, "."); u[n] += 1000; v = u[1]; for (i = 2; i <= n; i++) v = v "." u[i]; print v "-1" }'; }
cp /var/lib/dpkg/status "$work/status"
while read -r t kind pins; do
    [ "$kind" = headers ] || continue
    first=${pins%% *}
    meta=$(newer "${first#*=}")
    for p in linux-image-amd64=x linux-headers-amd64=x $pins; do
        name=${p%%=*}
        printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nSection: kernel\nMaintainer: test-setup <root@localhost>\nArchitecture: %s\nVersion: %s\nDescription: simulated newer point release\n\n' \
            "$name" "$(case $name in *-common) echo all ;; *) echo amd64 ;; esac)" "$meta" >> "$work/status"
    done
    echo "$t $meta" >> "$work/newer"
done < "$work/plan"
mkdir -p "$work/conf.d" "$work/prefs.d" "$work/sources.d" "$work/hostcache" "$work/oldcache"
cp -a /etc/apt/apt.conf.d/. "$work/conf.d/" 2>/dev/null || true
cp -a /etc/apt/sources.list.d/. "$work/sources.d/" 2>/dev/null || true
printf 'APT::Default-Release "bookworm";\nAPT::Architectures { "amd64"; "i386"; };\n' > "$work/conf.d/99test-setup"
printf 'Package: linux-*\nPin: release n=trixie\nPin-Priority: -1\n' > "$work/prefs.d/test-setup.pref"
echo "deb [trusted=yes] http://127.0.0.1:9/debian nowhere main" > "$work/sources.d/test-setup.list"
kbuild61=$(awk '$1 == "6.1" && $2 == "headers" { for (i = 3; i <= NF; i++) if ($i ~ /^linux-kbuild-/) print $i }' "$work/plan")
newer61=$(awk '$1 == "6.1" { print $2 }' "$work/newer")

cat > "$work/inside.sh" <<'INSIDE'
set -u
work=$1 refs=$2 cache=$3 kbuild=$4 newer=$5
mount --bind "$work/status" /var/lib/dpkg/status
mount --bind "$work/conf.d" /etc/apt/apt.conf.d
mkdir -p /etc/apt/preferences.d /etc/apt/sources.list.d
mount --bind "$work/prefs.d" /etc/apt/preferences.d
mount --bind "$work/sources.d" /etc/apt/sources.list.d
fail=0
pass() { echo "PASS $1"; }
failed() { echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; fail=1; }
name=${kbuild%%=*}

# 1. the simulation is what such a machine looks like to apt
policy=$(APT_CONFIG= apt-cache -o Dir::Cache="$work/hostcache" policy "$name" 2>&1)
case $policy in
    *"Installed: $newer"*) pass "simulated host: apt sees $name $newer installed" ;;
    *) failed "simulated host: apt sees $name $newer installed" "$policy" ;;
esac
old=$(APT_CONFIG="$cache/apt-refs/apt.conf" apt-get -o Dir::State::status=/var/lib/dpkg/status \
    -o Dir::Cache="$work/oldcache" download --print-uris "$name" 2>&1)
case $old in
    *"Can't find a source to download version '$newer' of '$name"*)
        pass "simulated host: resolving with the host's status fails as refs.sh did" ;;
    *) failed "simulated host: resolving with the host's status fails as refs.sh did" "$old" ;;
esac

# 2. the same pins
if "$refs" plan > "$work/plan2.out" 2> "$work/plan2.err" && cmp -s "$work/plan.out" "$work/plan2.out"; then
    pass "refs.sh plan: the same pins as on a clean host"
else
    failed "refs.sh plan: the same pins as on a clean host" "$(cat "$work/plan2.err" "$work/plan2.out")"
fi

# 3. the whole set-up, trees untouched
if out=$("$refs" tools trees headers 2> "$work/all.err") && [ "$out" = "$cache" ]; then
    for t in 6.1 6.12 6.12-bpo; do echo "$t $(cat "$cache/trees/$t/.pin") $(cat "$cache/trees/$t-headers/.pin")"; done > "$work/tree-pins2"
    if cmp -s "$work/tree-pins" "$work/tree-pins2"; then
        pass "refs.sh tools trees headers: succeeds, every tree as it was"
    else
        failed "refs.sh tools trees headers: succeeds, every tree as it was" "$(diff "$work/tree-pins" "$work/tree-pins2")"
    fi
else
    failed "refs.sh tools trees headers: succeeds, every tree as it was" "$(cat "$work/all.err")"
fi

# 4. a real pinned download, into a scratch cache holding a copy of the lists
scratch=$work/cache
mkdir -p "$scratch/apt-refs"
cp -al "$cache/apt-refs/lists" "$scratch/apt-refs/lists"
cp "$cache/apt-refs/pins" "$scratch/apt-refs/pins"
if deb=$(MODKIT_CACHE="$scratch" "$refs" fetch "$kbuild" 2> "$work/fetch.err" | head -n1) &&
    [ "$(dpkg-deb -f "$deb" Package Version 2>&1 | tr '\n' ' ')" = "Package: $name Version: ${kbuild#*=} " ]; then
    pass "refs.sh fetch $kbuild: downloads that version"
else
    failed "refs.sh fetch $kbuild: downloads that version" "$(cat "$work/fetch.err")"
fi

# 5. a version the archive lacks: one line naming it, exit 1
MODKIT_CACHE="$scratch" "$refs" fetch "$name=$newer" > "$work/missing.out" 2> "$work/missing.err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l < "$work/missing.err")" = 1 ] &&
    grep -q "^refs.sh: the archive has no $name $newer (" "$work/missing.err" && [ ! -s "$work/missing.out" ]; then
    pass "refs.sh fetch of a missing version: exit 1, one line naming it"
else
    failed "refs.sh fetch of a missing version: exit 1, one line naming it" "exit $rc" "$(cat "$work/missing.err")"
fi
exit $fail
INSIDE
set +e
unshare -m --propagation private sh "$work/inside.sh" "$work" "$refs" "$cache" "$kbuild61" "$newer61"
fail=$?

# 6. outside: a cache that cannot be made
MODKIT_CACHE=/proc/modkit-cache "$refs" tools > "$work/unwritable.out" 2> "$work/unwritable.err"
rc=$?
if [ $rc != 0 ] && grep -q "/proc/modkit-cache" "$work/unwritable.err" && [ ! -s "$work/unwritable.out" ]; then
    echo "PASS refs.sh with an unwritable cache: exit $rc, $(head -n1 "$work/unwritable.err")"
else
    echo "FAIL refs.sh with an unwritable cache"; echo "  exit $rc"; sed 's/^/  /' "$work/unwritable.err"; fail=1
fi
[ $fail = 0 ] && echo "test-setup.sh: all checks passed" || echo "test-setup.sh: some checks FAILED"
exit $fail
