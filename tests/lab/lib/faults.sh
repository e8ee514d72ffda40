# shellcheck shell=bash
# Fault injection with nftables inside the gateway namespaces.  All rules live
# in table `inet sitelink_lab`, in per-kind chains that start out empty.

# kind -> WAN interface and UDP ports
kind_iface() {
    case $1 in
        ipsec | openvpn | wireguard) echo wan1 ;;
        ipsec2) echo wan2 ;;
    esac
}
kind_ports() {
    case $1 in
        ipsec | ipsec2) echo "500, 4500" ;;
        openvpn) echo "$OVPN_PORT" ;;
        wireguard) echo "$WG_PORT" ;;
    esac
}

# Expand KIND (or "all") into the list of kinds; die on anything else.
expand_kinds() {
    local k
    if [[ ${1:-} == all ]]; then
        echo "${LAB_KINDS[@]}"
        return
    fi
    for k in "${LAB_KINDS[@]}"; do
        if [[ ${1:-} == "$k" ]]; then
            echo "$k"
            return
        fi
    done
    die "unknown tunnel kind '${1:-}' (expected one of: ${LAB_KINDS[*]} all)"
}

lab_require_up() {
    if ! ns_exists "$NS_A" || ! ns_exists "$NS_B"; then
        die "the lab ($LAB_PREFIX) is not up: run 'lab up' first"
    fi
}

nft_in() {
    local ns=$1
    shift
    ip netns exec "$ns" nft "$@"
}

# fault_cut KIND in|both : drop the kind's UDP ports on its WAN interface at
# site A, inbound only or both directions.
fault_cut() {
    local k=$1 dir=$2 ifc ports
    ifc=$(kind_iface "$k")
    ports=$(kind_ports "$k")
    fault_clear_cut "$k"
    nft_in "$NS_A" -f - <<EOF
add rule inet sitelink_lab cut_${k}_in iifname "$ifc" udp dport { $ports } counter drop comment "lab cut $k"
add rule inet sitelink_lab cut_${k}_in iifname "$ifc" udp sport { $ports } counter drop comment "lab cut $k"
EOF
    if [[ $dir == both ]]; then
        nft_in "$NS_A" -f - <<EOF
add rule inet sitelink_lab cut_${k}_out oifname "$ifc" udp dport { $ports } counter drop comment "lab cut $k"
add rule inet sitelink_lab cut_${k}_out oifname "$ifc" udp sport { $ports } counter drop comment "lab cut $k"
EOF
    fi
}

fault_clear_cut() {
    local k=$1 ns
    for ns in "$NS_A" "$NS_B"; do
        ns_exists "$ns" || continue
        nft_in "$ns" flush chain inet sitelink_lab "cut_${k}_in" 2>/dev/null || true
        nft_in "$ns" flush chain inet sitelink_lab "cut_${k}_out" 2>/dev/null || true
    done
}

# fault_loss KIND PERCENT : drop PERCENT % of the ICMP packets that travel
# through the kind's tunnel toward site B (applied in site B's gateway).
fault_loss() {
    local k=$1 pct=$2 match rnd
    nft_in "$NS_B" flush chain inet sitelink_lab "loss_$k"
    ((pct == 0)) && return 0
    # numgen yields 0..99; 100 % is a plain drop
    if ((pct >= 100)); then rnd=""; else rnd="numgen random mod 100 < $pct"; fi
    case $k in
        ipsec)
            nft_in "$NS_B" -f - <<EOF
add rule inet sitelink_lab loss_ipsec oifname "lan" ip saddr $LAN_NET_A meta l4proto icmp $rnd counter drop comment "lab loss ipsec"
add rule inet sitelink_lab loss_ipsec oifname "lan" ip6 saddr $LAN6_NET_A meta l4proto ipv6-icmp $rnd counter drop comment "lab loss ipsec"
EOF
            ;;
        ipsec2)
            nft_in "$NS_B" -f - <<EOF
add rule inet sitelink_lab loss_ipsec2 oifname "lan" ip saddr $LAN2_NET_A meta l4proto icmp $rnd counter drop comment "lab loss ipsec2"
EOF
            ;;
        openvpn | wireguard)
            if [[ $k == openvpn ]]; then match=$OVPN_DEV; else match=$WG_IFACE; fi
            nft_in "$NS_B" -f - <<EOF
add rule inet sitelink_lab loss_$k iifname "$match" meta l4proto { icmp, ipv6-icmp } $rnd counter drop comment "lab loss $k"
EOF
            ;;
    esac
}

fault_loss_clear() {
    local k
    ns_exists "$NS_B" || return 0
    for k in "${LAB_KINDS[@]}"; do
        nft_in "$NS_B" flush chain inet sitelink_lab "loss_$k" 2>/dev/null || true
    done
}

# Active fault rules, one per line ("<site> <chain>: <rule>"); empty when none.
fault_list() {
    local site ns chain
    for site in a b; do
        ns=$(ns_of "$site")
        ns_exists "$ns" || continue
        for chain in $(nft_in "$ns" list table inet sitelink_lab 2>/dev/null |
            sed -n 's/^[[:space:]]*chain \(cut_[a-z0-9]*_in\|cut_[a-z0-9]*_out\|loss_[a-z0-9]*\) {/\1/p'); do
            nft_in "$ns" list chain inet sitelink_lab "$chain" 2>/dev/null |
                sed -n "s/^[[:space:]]*\(.*\(drop\|accept\).*\)$/$site $chain: \1/p"
        done
    done
}
