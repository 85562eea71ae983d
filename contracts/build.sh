#!/usr/bin/env bash
# Builds Ward's example contracts for wasm32-unknown-unknown.
#
#   contracts/build.sh [NAME ...]     (default: every contract)
#
# The .wasm files land in target/contracts/wasm32-unknown-unknown/release/
# (the WASI reactors of WASI_ALL in .../wasm32-wasip1/release/);
# those of DEBUG_INFO are also built with their names and line tables (the
# `debug-info` profile, docs/debugging.md) into .../debug-info/.
# Toolchain, in this order (docs/contracts.md, "6. Building"):
#   1. rustup's wasm32-unknown-unknown standard library (added if missing);
#   2. Debian's rustc-web + rust-web-src, building core/alloc from source
#      (-Zbuild-std), installed with apt-get when missing and we are root.
# WARD_CONTRACT_TOOLCHAIN=rustup|debian forces one route.
set -euo pipefail
cd "$(dirname "$0")"

TARGET=wasm32-unknown-unknown
TARGET_DIR=../target/contracts
ALL=(counter counter2 token erc20 erc20-escrow escrow vault registry stackvm plugins evm faults lock)
# Contracts built for wasm32-wasip1 with Rust's standard library.
WASI_ALL=(wasi-guestbook)
DEBUG_INFO=(faults)
NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=("${ALL[@]}" "${WASI_ALL[@]}")
# NAMES split: the WASI ones are built by build_wasi, after the others.
WASI_NAMES=()
OTHERS=()
for name in "${NAMES[@]}"; do
    case " ${WASI_ALL[*]} " in
        *" $name "*) WASI_NAMES+=("$name") ;;
        *) OTHERS+=("$name") ;;
    esac
done
NAMES=("${OTHERS[@]}")
# Each crate is a cdylib for its module and an rlib for its tests' use of
# its types; `cargo rustc --crate-type cdylib` builds the module alone, as
# a cdylib-only crate would be built (with both, rustc's LTO would keep
# more code). One package per `cargo rustc`.
ARGS=(rustc --release --locked --target "$TARGET" --target-dir "$TARGET_DIR" --lib --crate-type cdylib)
# The same build in the debug-info profile, for those of NAMES in DEBUG_INFO.
DEBUG_ARGS=(rustc --profile debug-info --locked --target "$TARGET" --target-dir "$TARGET_DIR" --lib --crate-type cdylib)
DEBUG_NAMES=()
for name in "${NAMES[@]+"${NAMES[@]}"}"; do
    for debug in "${DEBUG_INFO[@]}"; do
        [ "$name" = "$debug" ] && DEBUG_NAMES+=("$name")
    done
done
# cargo "$@" for every package of NAMES, then "$DEBUG..." for DEBUG_NAMES.
each() {
    local name
    for name in "${NAMES[@]+"${NAMES[@]}"}"; do "$@" "${ARGS[@]}" -p "$name"; done
    for name in "${DEBUG_NAMES[@]+"${DEBUG_NAMES[@]}"}"; do "$@" "${DEBUG_ARGS[@]}" -p "$name"; done
}
ROUTE="${WARD_CONTRACT_TOOLCHAIN:-auto}"

say() { echo "contracts: $*" >&2; }

rustup_has_target() {
    command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

build_rustup() {
    say "building ${NAMES[*]} with rustup's $TARGET standard library"
    each cargo
}

debian_ready() {
    [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library/core ]
}

build_debian() {
    local lld
    lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
    if [ ! -x "$lld" ]; then
        say "rustup's rust-lld is missing ($lld)"
        return 1
    fi
    say "building ${NAMES[*]} with Debian's rustc ($(/usr/bin/rustc --version)) and -Zbuild-std"
    debian_cargo() {
        RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld" \
            cargo "$@" -Zbuild-std=core,alloc,panic_abort
    }
    each debian_cargo
}

install_debian() {
    if ! command -v apt-get >/dev/null; then
        return 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || return 1
        sudo=(sudo -n)
    fi
    say "installing Debian's rustc-web and rust-web-src"
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq rustc-web rust-web-src >/dev/null
}

give_up() {
    cat >&2 <<'MSG'
contracts: no way to build for wasm32-unknown-unknown here. Either
  - rustup target add wasm32-unknown-unknown        (needs rustup's download server), or
  - apt-get install rustc-web rust-web-src          (Debian 12; as root)
and run `make contracts` again.
MSG
    exit 1
}

if [ ${#NAMES[@]} -gt 0 ]; then
    case "$ROUTE" in
        rustup)
            rustup_has_target || rustup target add "$TARGET"
            build_rustup
            ;;
        debian)
            debian_ready || install_debian || give_up
            build_debian
            ;;
        auto)
            if rustup_has_target || { command -v rustup >/dev/null && timeout 120 rustup target add "$TARGET" >/dev/null 2>&1; }; then
                build_rustup
            elif debian_ready || install_debian; then
                build_debian
            else
                give_up
            fi
            ;;
        *)
            say "WARD_CONTRACT_TOOLCHAIN must be rustup, debian or unset (got $ROUTE)"
            exit 2
            ;;
    esac
fi

# The WASI reactors, for wasm32-wasip1 with the standard library: rustup's
# target when it has it (or can add it), else Debian's rustc building std
# from source against Debian's wasi-libc (installed when missing and root).
WASI_TARGET=wasm32-wasip1
WASI_ARGS=(rustc --release --locked --target "$WASI_TARGET" --target-dir "$TARGET_DIR" --lib --crate-type cdylib)

wasi_libc_ready() {
    [ -f /usr/lib/wasm32-wasi/libc.a ]
}

build_wasi() {
    local name lld
    if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$WASI_TARGET"; then
        say "building ${WASI_NAMES[*]} with rustup's $WASI_TARGET standard library"
        for name in "${WASI_NAMES[@]}"; do cargo "${WASI_ARGS[@]}" -p "$name"; done
        return
    fi
    if ! debian_ready && ! install_debian; then give_up; fi
    if ! wasi_libc_ready; then
        if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
            say "Debian's wasi-libc is missing (apt-get install wasi-libc, as root), or: rustup target add $WASI_TARGET"
            exit 1
        fi
        say "installing Debian's wasi-libc"
        apt-get install -y -qq wasi-libc >/dev/null
    fi
    lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
    say "building ${WASI_NAMES[*]} with Debian's rustc and -Zbuild-std=std against wasi-libc"
    for name in "${WASI_NAMES[@]}"; do
        RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_WASM32_WASIP1_LINKER="$lld" \
            CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C link-self-contained=no -L /usr/lib/wasm32-wasi" \
            cargo "${WASI_ARGS[@]}" -p "$name" -Zbuild-std=std,panic_abort
    done
}

if [ ${#WASI_NAMES[@]} -gt 0 ]; then
    build_wasi
fi
