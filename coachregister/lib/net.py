"""Client addresses and office networks (art. 12.2).

The client address is the TCP peer, unless the peer is a trusted reverse proxy
(`TRUSTED_PROXIES`): then the X-Forwarded-For chain is walked from the right, trusted proxies
are skipped, and the first hop that is not a trusted proxy is the client. A forwarded header
from an untrusted peer is ignored, so nobody outside can claim to be "inside the office".

A hop is read the way proxies write it: a bare IPv4 or IPv6 address, `ip:port` (IPv4) or
`[v6]:port`. A hop that is none of these (`unknown`, an empty entry, garbage) and that the
walk reaches before it finds the client makes the client *unknown*: `client_address` returns
None. Unknown is never the proxy's own address, because a proxy inside an office network
would then let a password-only sign-in through from anywhere. Entries left of the client
were written by the client itself and are not read at all.

What an unknown client (None) means elsewhere:

- the office rule (`accounts/policy.py`): None is in no network, so the request is outside
  the office and needs the second step;
- the audit trail (`request.client_ip`): the event is stored without an address, which is
  the truth; it is not recorded as the proxy's address;
- the lockout (django-axes through `AXES_CLIENT_IP_CALLABLE`): axes files the attempt with
  `ip_address` NULL, and its IP rule (`filter(ip_address=None)`, i.e. IS NULL) counts all
  unknown-address attempts together. That bucket holds only requests with a broken chain,
  never a well-formed client nor the proxy's own requests, so a locked "unknown" bucket
  refuses nobody who is correctly forwarded. The username rule applies as usual;
- the throttles (`accounts/throttle.py`): likewise one shared "unknown" bucket.

A request from a trusted proxy without any X-Forwarded-For header is the proxy's own request
(a health check), so its client is the proxy. The proxy must therefore always set the header
(nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# "192.0.2.1:4711" and "[2001:db8::1]:4711" / "[2001:db8::1]", as proxies write a hop.
_IPV4_PORT = re.compile(r"(?P<host>[0-9]{1,3}(?:\.[0-9]{1,3}){3}):[0-9]{1,5}")
_BRACKETED = re.compile(r"\[(?P<host>[^\[\]]+)\](?::[0-9]{1,5})?")


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
    """An address as a peer or a proxy writes it, or None when it is not one.

    A bare IPv6 address contains colons too, so the text is tried as an address first and
    only then as `ip:port` or `[v6]:port`. IPv4-mapped IPv6 addresses become IPv4, so that
    office networks written in IPv4 match a dual-stack listener.
    """
    if not value:
        return None
    text = value.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        match = _IPV4_PORT.fullmatch(text) or _BRACKETED.fullmatch(text)
        if match is None:
            return None
        try:
            address = ipaddress.ip_address(match["host"])
        except ValueError:
            return None
        if match.re is _BRACKETED and address.version != 6:
            return None  # "[192.0.2.1]" is not how anyone writes IPv4
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
    """The client's address, or None when it is unknown (see the module docstring).

    `forwarded_for` None means the header is absent; an empty or blank header is a chain
    with one empty hop, which is malformed.
    """
    proxies = list(trusted_proxies)
    peer = parse_address(remote_addr)
    if peer is None or forwarded_for is None or not in_networks(peer, proxies):
        return peer
    hop: IPAddress | None = peer
    for text in reversed(forwarded_for.split(",")):
        hop = parse_address(text)
        if hop is None:
            return None  # the chain the trusted proxies wrote is broken: the client is unknown
        if not in_networks(hop, proxies):
            return hop
    return hop  # every hop is a trusted proxy: the leftmost one sent the request
