# shellcheck shell=bash disable=SC2016
# Namespaces, links, addresses, routes and the nftables skeleton used for
# fault injection.  Nothing here touches the host namespace: every link is
# created directly inside a lab namespace.

# Write sysctls inside a namespace without depending on procps.
ns_sysctls() {
    local ns=$1
    shift
    ip netns exec "$ns" bash -c '
        for kv in "$@"; do
            key=${kv%%=*}; val=${kv#*=}
            f=/proc/sys/${key//.//}
            if [[ -w $f ]]; then echo "$val" >"$f"; fi
        done' lab-sysctl "$@"
}

net_up() {
    local ns
    for ns in "${LAB_NAMESPACES[@]}"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done

    # WAN links between the site gateways, LAN links to the site hosts.
    ip link add wan1 netns "$NS_A" type veth peer name wan1 netns "$NS_B"
    ip link add wan2 netns "$NS_A" type veth peer name wan2 netns "$NS_B"
    ip link add lan netns "$NS_A" type veth peer name eth0 netns "$NS_A_LAN"
    ip link add lan netns "$NS_B" type veth peer name eth0 netns "$NS_B_LAN"

    local gw_sysctls=(
        net.ipv4.ip_forward=1
        net.ipv6.conf.all.forwarding=1
        net.ipv4.conf.all.rp_filter=0
        net.ipv4.conf.default.rp_filter=0
        net.ipv6.conf.default.accept_dad=0
        net.ipv6.conf.all.accept_dad=0
    )
    ns_sysctls "$NS_A" "${gw_sysctls[@]}"
    ns_sysctls "$NS_B" "${gw_sysctls[@]}"
    ns_sysctls "$NS_A_LAN" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ns_sysctls "$NS_B_LAN" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0

    ip -n "$NS_A" -batch - <<EOF
addr add $WAN_A/24 dev wan1
addr add $WAN6_A/64 dev wan1 nodad
addr add $WAN2_A/24 dev wan2
addr add $LAN_GW_A/24 dev lan
addr add $LAN2_GW_A/24 dev lan
addr add $LAN6_GW_A/64 dev lan nodad
link set wan1 up
link set wan2 up
link set lan up
EOF
    ip -n "$NS_B" -batch - <<EOF
addr add $WAN_B/24 dev wan1
addr add $WAN6_B/64 dev wan1 nodad
addr add $WAN2_B/24 dev wan2
addr add $LAN_GW_B/24 dev lan
addr add $LAN2_GW_B/24 dev lan
addr add $LAN6_GW_B/64 dev lan nodad
link set wan1 up
link set wan2 up
link set lan up
EOF
    # LAN hosts: default route to their gateway; the second subnet of the
    # other site is reached with the host's second address as source, so that
    # a plain `ping 10.202.0.10` from a-lan matches dr-secondary's selectors.
    ip -n "$NS_A_LAN" -batch - <<EOF
addr add $LAN_A/24 dev eth0
addr add $LAN2_A/24 dev eth0
addr add $LAN6_A/64 dev eth0 nodad
link set eth0 up
route add default via $LAN_GW_A
route add $LAN2_NET_B via $LAN2_GW_A src $LAN2_A
route add default via $LAN6_GW_A
EOF
    ip -n "$NS_B_LAN" -batch - <<EOF
addr add $LAN_B/24 dev eth0
addr add $LAN2_B/24 dev eth0
addr add $LAN6_B/64 dev eth0 nodad
link set eth0 up
route add default via $LAN_GW_B
route add $LAN2_NET_A via $LAN2_GW_B src $LAN2_B
route add default via $LAN6_GW_B
EOF
    nft_base "$NS_A"
    nft_base "$NS_B"
}

# nftables skeleton in a gateway namespace: one pair of (initially empty)
# chains per tunnel kind for cuts, one chain per kind for random loss.
nft_base() {
    local ns=$1 k
    {
        echo "table inet sitelink_lab {"
        for k in "${LAB_KINDS[@]}"; do
            echo "  chain cut_${k}_in { }"
            echo "  chain cut_${k}_out { }"
            echo "  chain loss_${k} { }"
        done
        echo "  chain input { type filter hook input priority 0; policy accept;"
        for k in "${LAB_KINDS[@]}"; do echo "    jump cut_${k}_in"; done
        echo "    jump loss_openvpn"
        echo "    jump loss_wireguard"
        echo "  }"
        echo "  chain output { type filter hook output priority 0; policy accept;"
        for k in "${LAB_KINDS[@]}"; do echo "    jump cut_${k}_out"; done
        echo "  }"
        echo "  chain forward { type filter hook forward priority 0; policy accept;"
        echo "    jump loss_ipsec"
        echo "    jump loss_ipsec2"
        echo "  }"
        echo "}"
    } | ip netns exec "$ns" nft -f -
}

net_down() {
    local ns
    for ns in "${LAB_NAMESPACES[@]}"; do
        if ns_exists "$ns"; then
            ip netns del "$ns" 2>/dev/null || lab_warn "could not delete namespace $ns"
        fi
    done
}
