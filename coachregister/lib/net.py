"""Client addresses and office networks (art. 12.2).

The client address is the TCP peer, unless the peer is a trusted reverse proxy: then the
X-Forwarded-For chain is walked from the right, skipping trusted proxies, and the first
address not in that set is the client. A forged header from an untrusted peer is ignored, so
nobody outside can claim to be "inside the office".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """Parse CIDR strings; raises ValueError naming the first invalid entry's position."""
    networks: list[IPNetwork] = []
    for position, value in enumerate(values, start=1):
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"entry {position} is not an IP address or network") from None
    return networks


def parse_address(value: str | None) -> IPAddress | None:
    if not value:
        return None
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def in_networks(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    if address is None:
        return False
    return any(address.version == net.version and address in net for net in networks)


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted_proxies: Iterable[IPNetwork]
) -> IPAddress | None:
    proxies = list(trusted_proxies)
    peer = parse_address(remote_addr)
    if peer is None or not forwarded_for or not in_networks(peer, proxies):
        return peer
    hops = [parse_address(part) for part in forwarded_for.split(",")]
    if any(hop is None for hop in hops):
        return peer  # a malformed chain is not evidence of anything
    for hop in reversed(hops):
        if not in_networks(hop, proxies):
            return hop
    return hops[0] or peer
