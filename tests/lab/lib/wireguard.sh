# shellcheck shell=bash
# WireGuard with wireguard-go (no kernel module here).  The UAPI socket lands
# in the site's private /run: $LAB_STATE/<site>/run/wireguard/wg0.sock.
# Site A also carries a third peer that has no endpoint and never completes
# a handshake (LAB_WG_PUB_NEVER).

wg_sock() { echo "$LAB_STATE/$1/run/wireguard/$WG_IFACE.sock"; }

wg_start() {
    local site=$1 dir=$LAB_STATE/$1
    rm -f "$(wg_sock "$site")"
    LOG_LEVEL=error start_daemon "$site" wireguard "$WGGO_BIN" "$dir/wireguard.log" \
        "$WGGO_BIN" -f "$WG_IFACE"
}

wg_configure() {
    local site=$1 pki=$LAB_STATE/pki ns
    ns=$(ns_of "$site")
    wait_until 10 "wireguard-go UAPI socket on site $site" test -S "$(wg_sock "$site")" ||
        die "wireguard-go on site $site did not create $(wg_sock "$site") (see $LAB_STATE/$site/wireguard.log)"
    local peer_pub peer_ep my_addr
    if [[ $site == a ]]; then
        peer_pub=$(<"$pki/wg-b.pub") peer_ep=$WAN_B:$WG_PORT my_addr=$WG_TUN_A/24
        site_exec a wg set "$WG_IFACE" listen-port "$WG_PORT" private-key "$pki/wg-a.key" \
            peer "$peer_pub" endpoint "$peer_ep" allowed-ips "$WG_TUN_B/32" persistent-keepalive 1 \
            peer "$(<"$pki/wg-never.pub")" allowed-ips "$WG_NEVER_TUN/32"
    else
        peer_pub=$(<"$pki/wg-a.pub") peer_ep=$WAN_A:$WG_PORT my_addr=$WG_TUN_B/24
        site_exec b wg set "$WG_IFACE" listen-port "$WG_PORT" private-key "$pki/wg-b.key" \
            peer "$peer_pub" endpoint "$peer_ep" allowed-ips "$WG_TUN_A/32" persistent-keepalive 1
    fi
    ip -n "$ns" addr add "$my_addr" dev "$WG_IFACE"
    ip -n "$ns" link set "$WG_IFACE" up
}

wg_ready() {
    ping_ok "$NS_A" "$WG_TUN_B"
}

wg_wait() {
    wait_until "$1" "WireGuard (handshake and traffic)" wg_ready
}

# Seconds since the last handshake between A and B as seen from A (or
# "never").  Reads only the peer's public key line and its handshake time:
# the UAPI reply also contains the private key, which is never printed.
wg_handshake_age() {
    local sock pub line key cur="" ts=0
    sock=$(wg_sock a)
    pub=$(base64 -d <"$LAB_STATE/pki/wg-b.pub" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [[ -S $sock ]] || { echo "n/a"; return; }
    while IFS= read -r line; do
        key=${line%%=*}
        case $key in
            public_key) cur=${line#*=} ;;
            last_handshake_time_sec) [[ $cur == "$pub" ]] && ts=${line#*=} ;;
        esac
    done < <(printf 'get=1\n\n' | timeout 3 socat -T 2 - "UNIX-CONNECT:$sock" 2>/dev/null)
    if ((ts == 0)); then echo never; else echo "$(($(date +%s) - ts))s"; fi
}
