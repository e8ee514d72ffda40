# shellcheck shell=bash disable=SC2034,SC2016
# Shared settings and helpers for the sitelink two-site lab.
# Sourced by tests/lab/lab; not meant to be run on its own.

# ---------------------------------------------------------------- settings
LAB_PREFIX=${LAB_PREFIX:-sl}
LAB_STATE=${LAB_STATE:-/tmp/sitelink-lab-$LAB_PREFIX}
LAB_TIMEOUT=${LAB_TIMEOUT:-30}
LAB_DPD_ACTION=${LAB_DPD_ACTION:-restart}

NS_A=$LAB_PREFIX-a
NS_B=$LAB_PREFIX-b
NS_A_LAN=$LAB_PREFIX-a-lan
NS_B_LAN=$LAB_PREFIX-b-lan
LAB_NAMESPACES=("$NS_A" "$NS_B" "$NS_A_LAN" "$NS_B_LAN")

# Addressing (identical in every lab instance: namespaces keep them apart).
WAN_A=192.0.2.1          WAN_B=192.0.2.2          # WAN 1 (wan1)
WAN6_A=2001:db8::1       WAN6_B=2001:db8::2       # WAN 1, IPv6
WAN2_A=198.51.100.1      WAN2_B=198.51.100.2      # WAN 2 (wan2)
LAN_NET_A=10.101.0.0/24  LAN_NET_B=10.102.0.0/24
LAN_GW_A=10.101.0.1      LAN_GW_B=10.102.0.1
LAN_A=10.101.0.10        LAN_B=10.102.0.10
LAN6_NET_A=fd00:101::/64 LAN6_NET_B=fd00:102::/64
LAN6_GW_A=fd00:101::1    LAN6_GW_B=fd00:102::1
LAN6_A=fd00:101::10      LAN6_B=fd00:102::10
# Second pair of subnets, carried only by dr-secondary.
LAN2_NET_A=10.201.0.0/24 LAN2_NET_B=10.202.0.0/24
LAN2_GW_A=10.201.0.1     LAN2_GW_B=10.202.0.1
LAN2_A=10.201.0.10       LAN2_B=10.202.0.10
OVPN_TUN_A=10.8.0.1      OVPN_TUN_B=10.8.0.2
OVPN_PORT=1194
OVPN_DEV=ovpn0
WG_TUN_A=10.9.0.1        WG_TUN_B=10.9.0.2
WG_NEVER_TUN=10.9.0.99
WG_PORT=51820
WG_IFACE=wg0
IPSEC_CONN_PRIMARY=dr-primary
IPSEC_CONN_SECONDARY=dr-secondary

CHARON_BIN=/usr/lib/ipsec/charon
CHARON_PLUGIN_DIR=/usr/lib/ipsec/plugins
# Order matters: kernel-libipsec must come before kernel-netlink so that
# IPsec SAs are handled in user space (this kernel has no ESP).
CHARON_PLUGINS="random nonce openssl aes sha1 sha2 hmac kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici"
OPENVPN_BIN=/usr/sbin/openvpn
WGGO_BIN=/usr/bin/wireguard-go

# Lab kinds that can be cut / waited for.
LAB_KINDS=(ipsec ipsec2 openvpn wireguard)

# --------------------------------------------------------------- messages
lab_log() {
    [[ ${LAB_QUIET:-0} == 1 ]] && return 0
    printf 'lab[%s]: %s\n' "$LAB_PREFIX" "$*" >&2
}
lab_warn() { printf 'lab[%s]: warning: %s\n' "$LAB_PREFIX" "$*" >&2; }
die() {
    printf 'lab[%s]: ERROR: %s\n' "$LAB_PREFIX" "$*" >&2
    exit 1
}

# --------------------------------------------------------------- checks
lab_check_settings() {
    [[ $LAB_PREFIX =~ ^[a-z0-9][a-z0-9_-]{0,15}$ ]] ||
        die "LAB_PREFIX '$LAB_PREFIX' must match [a-z0-9][a-z0-9_-]{0,15}"
    [[ $LAB_STATE == /* && $LAB_STATE != / && $LAB_STATE != *[[:space:]]* ]] ||
        die "LAB_STATE must be an absolute path other than /, without spaces (got '$LAB_STATE')"
    [[ $LAB_TIMEOUT =~ ^[0-9]+$ && $LAB_TIMEOUT -gt 0 ]] ||
        die "LAB_TIMEOUT must be a positive integer (got '$LAB_TIMEOUT')"
    case $LAB_DPD_ACTION in
        restart | clear | trap) ;;
        *) die "LAB_DPD_ACTION must be restart, clear or trap (got '$LAB_DPD_ACTION')" ;;
    esac
    # The longest unix socket path must fit in sun_path (108 bytes).
    local longest="$LAB_STATE/a/run/wireguard/$WG_IFACE.sock"
    ((${#longest} < 100)) ||
        die "LAB_STATE is too long for unix socket paths ($longest)"
}

lab_check_root() {
    [[ $(id -u) == 0 ]] || die "the lab needs root (network namespaces, TUN devices)"
}

# Prerequisites for bringing the lab up.
lab_check_prereqs() {
    lab_check_root
    local missing=() b
    for b in ip nft openssl openvpn wireguard-go wg swanctl socat ping mount setsid flock timeout; do
        command -v "$b" >/dev/null 2>&1 || missing+=("$b")
    done
    [[ -x $CHARON_BIN ]] || missing+=("$CHARON_BIN")
    local p
    for p in $CHARON_PLUGINS; do
        [[ -e $CHARON_PLUGIN_DIR/libstrongswan-$p.so ]] || missing+=("strongSwan plugin $p")
    done
    if ((${#missing[@]})); then
        die "missing: ${missing[*]} (install the packages listed in tests/lab/packages.txt)"
    fi
    [[ -c /dev/net/tun ]] ||
        die "/dev/net/tun is missing: TUN devices are needed for kernel-libipsec, OpenVPN and wireguard-go"
    ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here (network namespaces unavailable?)"
}

# --------------------------------------------------------------- time
now_ms() {
    local t=${EPOCHREALTIME//[.,]/}
    echo $((10#$t / 1000))
}

# lab_deadline SECONDS -> absolute deadline in ms
lab_deadline() { echo $(($(now_ms) + $1 * 1000)); }

# remaining seconds (rounded up, at least 1) until deadline in ms
lab_remaining() {
    local left=$(($1 - $(now_ms)))
    ((left < 1000)) && left=1000
    echo $(((left + 999) / 1000))
}

# wait_until TIMEOUT_S DESCRIPTION CMD... : poll CMD every 0.2 s until it succeeds.
wait_until() {
    local timeout=$1 desc=$2
    shift 2
    local deadline
    deadline=$(lab_deadline "$timeout")
    while :; do
        if "$@"; then return 0; fi
        if (($(now_ms) >= deadline)); then
            lab_warn "timed out after ${timeout}s waiting for $desc"
            return 1
        fi
        sleep 0.2
    done
}

# --------------------------------------------------------------- namespaces
ns_of() {
    case $1 in
        a) echo "$NS_A" ;;
        b) echo "$NS_B" ;;
        a-lan) echo "$NS_A_LAN" ;;
        b-lan) echo "$NS_B_LAN" ;;
        *) die "unknown site '$1' (expected a, b, a-lan or b-lan)" ;;
    esac
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# Run a command in a site gateway namespace with the site's private /run
# bind-mounted over /run (ip netns exec gives every command its own mount
# namespace, so the bind mount is invisible to everyone else).  This is how
# `wg`, `swanctl` (default URI) etc. find the site's sockets.
site_exec() {
    local site=$1
    shift
    local ns rundir
    ns=$(ns_of "$site")
    rundir=$LAB_STATE/$site/run
    if [[ -d $rundir ]]; then
        ip netns exec "$ns" bash -c 'mount --bind "$1" /run || exit 125; shift; exec "$@"' \
            lab-exec "$rundir" "$@"
    else
        ip netns exec "$ns" "$@"
    fi
}

nsx() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# --------------------------------------------------------------- processes
# Is PID inside one of this lab's namespaces?
pid_in_lab() {
    local pid=$1 name n
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -d /proc/$pid ]] || return 1
    while read -r name; do
        for n in "${LAB_NAMESPACES[@]}"; do
            [[ $name == "$n" ]] && return 0
        done
    done < <(ip netns identify "$pid" 2>/dev/null | tr ' ' '\n')
    return 1
}

pidfile_of() { echo "$LAB_STATE/$1/$2.pid"; }

# Print the PID recorded for SITE NAME if that process is alive and in the lab.
lab_pid() {
    local f pid
    f=$(pidfile_of "$1" "$2")
    [[ -r $f ]] || return 1
    read -r pid <"$f" || return 1
    pid_in_lab "$pid" || return 1
    echo "$pid"
}

# start_daemon SITE NAME EXE LOG CMD... : start CMD in the site namespace,
# detached in its own session, with the site /run bind mount, and record its
# PID.  Waits until the exec chain reached EXE.
start_daemon() {
    local site=$1 name=$2 exe=$3 logf=$4
    shift 4
    local ns pidf pid
    ns=$(ns_of "$site")
    pidf=$(pidfile_of "$site" "$name")
    rm -f "$pidf"
    # The inner bash closes every inherited descriptor above 2 (the caller's
    # lock file, test harness pipes) before it execs the daemon.
    setsid ip netns exec "$ns" bash -c '
        for fd in /proc/$$/fd/*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-"; fi
        done 2>/dev/null
        mount --bind "$1" /run || exit 125
        shift
        exec "$@"' "lab-$name" "$LAB_STATE/$site/run" "$@" </dev/null >>"$logf" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$pidf"
    local deadline
    deadline=$(lab_deadline 5)
    while [[ $(readlink "/proc/$pid/exe" 2>/dev/null) != "$exe" ]]; do
        if [[ ! -d /proc/$pid ]]; then
            tail -n 20 "$logf" >&2 2>/dev/null || true
            die "$name on site $site exited right after start (log: $logf)"
        fi
        (($(now_ms) >= deadline)) && die "$name on site $site did not start within 5 s (log: $logf)"
        sleep 0.05
    done
}

# stop_pid PID SIGNAL : signal a recorded PID after checking it is ours.
signal_lab_pid() {
    local pid=$1 sig=$2
    if pid_in_lab "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        return 0
    fi
    return 1
}

# wait for a set of PIDs to disappear (bounded); returns 1 if some remain.
wait_pids_gone() {
    local timeout=$1
    shift
    local deadline p alive
    deadline=$(lab_deadline "$timeout")
    while :; do
        alive=0
        for p in "$@"; do
            [[ -d /proc/$p ]] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive=1
        done
        ((alive == 0)) && return 0
        (($(now_ms) >= deadline)) && return 1
        sleep 0.1
    done
}

# stop_daemon SITE NAME [SIGNAL] : TERM (or SIGNAL) the recorded daemon, wait,
# KILL if needed.
stop_daemon() {
    local site=$1 name=$2 sig=${3:-TERM} pidf pid
    pidf=$(pidfile_of "$site" "$name")
    [[ -r $pidf ]] || return 0
    read -r pid <"$pidf" || pid=
    if [[ -n $pid ]] && signal_lab_pid "$pid" "$sig"; then
        if ! wait_pids_gone 5 "$pid"; then
            signal_lab_pid "$pid" KILL || true
            wait_pids_gone 2 "$pid" || lab_warn "$name ($site, pid $pid) did not exit"
        fi
    fi
    rm -f "$pidf"
}

# --------------------------------------------------------------- locking
# Serialise state-changing subcommands of one lab instance.
lab_lock() {
    mkdir -p "$LAB_STATE"
    exec 9>"$LAB_STATE/.lock"
    flock -w 120 9 || die "could not lock $LAB_STATE/.lock within 120 s (another lab command running?)"
}

# --------------------------------------------------------------- probes
# ping_ok NS ADDR [extra ping args...]: one echo, one second.
ping_ok() {
    local ns=$1 addr=$2
    shift 2
    ip netns exec "$ns" ping -n -q -c 1 -W 1 "$@" "$addr" >/dev/null 2>&1
}
