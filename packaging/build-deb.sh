#!/usr/bin/env bash
# Build dist/tercel_<version>_<arch>.deb from this checkout with dpkg-deb (no debhelper needed).
#
#   packaging/build-deb.sh [--out DIR]
#
# Layout of the package:
#   /usr/bin/tercel                    launcher (Debian's python3, isolated mode)
#   /usr/lib/tercel/tercel/            the tercel package, with the compiled BPF object (driver/bpf/tercel.bpf.o)
#   /usr/lib/tercel/urllib3/           vendored: Debian 12's python3-urllib3 (1.26) is below pyproject's range
#   /etc/tercel/tercel.yaml            conffile: the built-in configuration, Falco's falco.yaml keys
#   /etc/tercel/tercel_rules.yaml      conffile: the default rules (as /etc/falco/falco_rules.yaml)
#   /etc/tercel/tercel_rules.local.yaml  conffile: local additions/overrides, empty
#   /etc/tercel/rules.d/, config.d/    drop-in rules and configuration
#   /lib/systemd/system/tercel.service
# PyYAML comes from Debian (python3-yaml 6.0 fits pyproject's range), libbpf from libbpf1.
#
# Environment: TERCEL_VENDOR_PYTHON  the Python whose installed urllib3 is vendored (default .venv/bin/python)
#              SOURCE_DATE_EPOCH     file times in the package (default: the last commit's time)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT="$ROOT/dist"
while (($#)); do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build-deb.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

die() { echo "build-deb.sh: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (package dpkg)"

PY=${TERCEL_VENDOR_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || die "no Python at $PY (run ./dev.sh setup, or set TERCEL_VENDOR_PYTHON)"
TOOLS=("$PY" "$HERE/debtools.py")

VERSION=$("${TOOLS[@]}" version "$ROOT/src")
ARCH=$(dpkg --print-architecture)
DEB="$OUT/tercel_${VERSION}_${ARCH}.deb"

# The BPF object is built for this machine's architecture (CO-RE: it relocates on other kernels).
make -s -C "$ROOT/src/tercel/driver/bpf" >&2
OBJ="$ROOT/src/tercel/driver/bpf/tercel.bpf.o"
[ -f "$OBJ" ] || die "$OBJ was not built (no kernel BTF at /sys/kernel/btf/vmlinux?): the package needs it"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/pkg"
LIB="$PKG/usr/lib/tercel"
mkdir -p "$PKG/DEBIAN" "$LIB" "$PKG/usr/bin" "$PKG/lib/systemd/system" "$PKG/etc/tercel/rules.d" \
         "$PKG/etc/tercel/config.d" "$PKG/usr/share/doc/tercel"

# The tercel package: everything under src/tercel but caches and the BPF build's inputs
# (vmlinux.h is generated from the build machine's kernel; the C source stays, for the GPL'd object).
(cd "$ROOT/src" && find tercel \( -name __pycache__ -o -name '*.pyc' -o -name '*.tmp' \
        -o -path tercel/driver/bpf/vmlinux.h -o -path tercel/driver/bpf/Makefile \) -prune \
        -o -type f -print) | while read -r f; do
    install -D -m 0644 "$ROOT/src/$f" "$LIB/$f"
done

# DWARF is only for debugging the BPF program; .BTF/.BTF.ext (CO-RE relocations) stay. Halves the size.
STRIP=$(command -v llvm-strip || true)
if [ -n "$STRIP" ]; then "$STRIP" -g "$LIB/tercel/driver/bpf/tercel.bpf.o"; fi

"${TOOLS[@]}" vendor "$ROOT/pyproject.toml" "$LIB" urllib3 >&2

install -m 0755 "$HERE/tercel-launcher" "$PKG/usr/bin/tercel"
install -m 0644 "$HERE/tercel.service" "$PKG/lib/systemd/system/tercel.service"
"${TOOLS[@]}" etc-config "$ROOT/src/tercel/data/tercel.yaml" "$PKG/etc/tercel/tercel.yaml"
install -m 0644 "$ROOT/src/tercel/data/tercel_rules.yaml" "$PKG/etc/tercel/tercel_rules.yaml"
install -m 0644 "$HERE/etc/tercel_rules.local.yaml" "$PKG/etc/tercel/tercel_rules.local.yaml"
install -m 0644 "$ROOT/README.md" "$PKG/usr/share/doc/tercel/README.md"
install -m 0644 "$HERE/copyright" "$PKG/usr/share/doc/tercel/copyright"

for s in postinst prerm postrm; do install -m 0755 "$HERE/debian/$s" "$PKG/DEBIAN/$s"; done
(cd "$PKG" && find etc -type f | sort | sed 's|^|/|') > "$PKG/DEBIAN/conffiles"

YAML_DEP=$("${TOOLS[@]}" depends "$ROOT/pyproject.toml" PyYAML=python3-yaml)
SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<EOF
Package: tercel
Version: $VERSION
Architecture: $ARCH
Maintainer: tercel developers <tercel@localhost>
Installed-Size: $SIZE
Depends: python3 (>= 3.11), $YAML_DEP, libbpf1
Suggests: podman | docker.io | containerd | cri-o
Section: admin
Priority: optional
Description: runtime security for Linux hosts and containers
 tercel watches system calls with an eBPF program, keeps the state of
 processes, files and connections, and matches events against rules written
 in Falco's rule language (the official Falco rules load unmodified).
 Alerts go to stdout (the journal: journalctl -fu tercel), files, syslog,
 programs, HTTP endpoints and email.
 .
 Live capture needs x86_64, Linux >= 6.2 with BTF (CONFIG_DEBUG_INFO_BTF=y).
EOF

(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$PKG/DEBIAN/md5sums"

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}
find "$PKG" -type d -exec chmod 0755 {} +
find "$PKG" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUT"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >&2
echo "$DEB"
