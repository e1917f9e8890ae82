#!/usr/bin/env bash
# One entry point for setting up and using tercel from a checkout on Debian/Ubuntu (as root).
#   ./dev.sh run [tercel args]   install everything needed, then run tercel (live monitoring, default config+rules)
#   ./dev.sh test                install everything needed, then lint, type-check and run the whole test suite
#   ./dev.sh setup               only install (apt packages, virtualenv, compiled BPF object)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"

# Debian packages: compiler and libbpf for the BPF driver, oracles for differential tests
# (sysdig reads .scap files), and a container runtime for container tests.
APT_PACKAGES=(python3 python3-venv python3-dev gcc make clang llvm libbpf-dev bpftool
              sysdig podman runc busybox-static iproute2 procps ca-certificates
              python3-yaml systemd)

need_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "dev.sh: installing Debian packages: ${missing[*]}" >&2
        if [ "$(id -u)" != 0 ]; then echo "dev.sh: need root to install packages" >&2; exit 1; fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

pick_python() {
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$py"; return
        fi
    done
    echo "dev.sh: no Python >= 3.11 found" >&2; exit 1
}

need_venv() {
    local stamp="$VENV/.installed"
    if [ ! -x "$VENV/bin/python" ]; then
        "$(pick_python)" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -e ".[dev]"
        touch "$stamp"
    fi
}

need_bpf() {
    if [ -f src/tercel/driver/bpf/Makefile ]; then
        make -s -C src/tercel/driver/bpf
    fi
}

setup() { need_apt; need_venv; need_bpf; }

cmd=${1:-run}
shift || true
case "$cmd" in
    setup) setup ;;
    run)
        setup
        exec "$VENV/bin/tercel" "$@"
        ;;
    test)
        setup
        echo "== ruff" && "$VENV/bin/ruff" check src tests benchmarks
        echo "== mypy" && "$VENV/bin/mypy"
        echo "== pytest"
        set +e
        "$VENV/bin/pytest" "$@"
        rc=$?
        set -e
        # pytest's 5 means no test ran: that is a failure here, never a silent pass.
        exit $rc
        ;;
    *) echo "usage: $0 run|test|setup [args]" >&2; exit 2 ;;
esac
