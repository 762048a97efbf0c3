from __future__ import annotations

import ipaddress

import pytest

from coachregister.lib import net

pytestmark = pytest.mark.article("12.2")

PROXIES = net.parse_networks(["10.0.0.0/8", "fd00::/8"])


UNKNOWN = None  # the client address is unknown: outside the office, never the proxy


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # A forged header from an untrusted peer is ignored, well-formed or not.
        ("203.0.113.5", "192.0.2.10", "203.0.113.5"),
        ("203.0.113.5", "garbage", "203.0.113.5"),
        # Through a trusted proxy, the first untrusted hop from the right is the client.
        ("10.0.0.2", "192.0.2.10", "192.0.2.10"),
        ("10.0.0.2", "192.0.2.10, 10.0.0.7", "192.0.2.10"),
        # A client that prepends a fake office address cannot hide behind it.
        ("10.0.0.2", "192.0.2.10, 198.51.100.4", "198.51.100.4"),
        # The proxy's own request (no header at all) is the proxy's.
        ("10.0.0.2", None, "10.0.0.2"),
        # Whatever a client wrote left of its own hop is never read.
        ("10.0.0.2", "garbage, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "unknown, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", ", 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "garbage, 203.0.113.5, 10.0.0.7", "203.0.113.5"),
        # An unparseable hop reached before the client: unknown, never the proxy.
        ("10.0.0.2", "not-an-ip", UNKNOWN),
        ("10.0.0.2", "unknown", UNKNOWN),
        ("10.0.0.2", "203.0.113.5, unknown", UNKNOWN),
        ("10.0.0.2", "203.0.113.5, garbage", UNKNOWN),
        ("10.0.0.2", "192.0.2.10, garbage, 10.0.0.7", UNKNOWN),
        ("10.0.0.2", "garbage, 10.0.0.7", UNKNOWN),
        # Empty hops: an empty or blank header, a trailing comma, an empty middle entry.
        ("10.0.0.2", "", UNKNOWN),
        ("10.0.0.2", "   ", UNKNOWN),
        ("10.0.0.2", "203.0.113.5,", UNKNOWN),
        ("10.0.0.2", "203.0.113.5, , 10.0.0.7", UNKNOWN),
        # ip:port (IPv4) and [v6]:port, as some proxies write them.
        ("10.0.0.2", "203.0.113.5:4711", "203.0.113.5"),
        ("10.0.0.2", "203.0.113.5:4711, 10.0.0.7:443", "203.0.113.5"),
        ("10.0.0.2", "garbage, 10.0.0.7:443", UNKNOWN),
        ("10.0.0.2", "[2001:db8::5]:4711", "2001:db8::5"),
        ("10.0.0.2", "[2001:db8::5]", "2001:db8::5"),
        ("10.0.0.2", "2001:db8::5, [fd00::7]:443", "2001:db8::5"),
        # Broken ports and brackets are not addresses.
        ("10.0.0.2", "203.0.113.5:", UNKNOWN),
        ("10.0.0.2", "203.0.113.5:http", UNKNOWN),
        ("10.0.0.2", "[203.0.113.5]:4711", UNKNOWN),
        ("10.0.0.2", "2001:db8::5]:4711", UNKNOWN),
        ("10.0.0.2", "[2001:db8::5]:", UNKNOWN),
        # IPv6: a bare address has colons too and is read as an address first.
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        ("fd00::1", "2001:db8::5, fd00::7", "2001:db8::5"),
        ("fd00::1", "2001:db8::1:80", "2001:db8::1:80"),
        ("fd00::1", "2001:db8::5, unknown", UNKNOWN),
        ("fd00::1", "unknown, 2001:db8::5", "2001:db8::5"),
        ("fd00::1", None, "fd00::1"),
        ("2001:db8::9", "192.0.2.10", "2001:db8::9"),
        # IPv4-mapped IPv6 (a dual-stack listener) is IPv4, for the peer and for a hop.
        ("::ffff:192.0.2.1", None, "192.0.2.1"),
        ("::ffff:10.0.0.2", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "::ffff:203.0.113.5", "203.0.113.5"),
        (None, "192.0.2.10", UNKNOWN),
        ("", "192.0.2.10", UNKNOWN),
    ],
)
def test_client_address(remote: str | None, forwarded: str | None, expected: str | None) -> None:
    result = net.client_address(remote, forwarded, PROXIES)
    assert (str(result) if result else None) == expected


@pytest.mark.parametrize(
    "forwarded",
    ["garbage", "unknown", "", "203.0.113.5, unknown", "203.0.113.5, , 10.0.0.7",
     "203.0.113.5:", "[203.0.113.5]:4711"],
)
def test_broken_chain_from_proxy_inside_the_office_is_outside(forwarded: str) -> None:
    """The finding of issue 9: a proxy inside an office network must not lend its address to
    a request whose chain it cannot vouch for."""
    office = net.parse_networks(["10.0.0.0/24"])  # the proxy 10.0.0.2 sits in the office
    assert net.in_networks(net.client_address("10.0.0.2", None, PROXIES), office)
    result = net.client_address("10.0.0.2", forwarded, PROXIES)
    assert result is None
    assert not net.in_networks(result, office)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("192.0.2.1:443", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::1", "::1"),
        ("[::ffff:192.0.2.1]:443", "192.0.2.1"),
        ("unknown", None),
        ("", None),
        (None, None),
        ("192.0.2", None),
        ("192.0.2.1:", None),
        ("192.0.2.1:443:1", None),
        ("999.0.2.1:443", None),
        ("[192.0.2.1]", None),
        ("[2001:db8::1]x", None),
        ("_hidden", None),
    ],
)
def test_parse_address(text: str | None, expected: str | None) -> None:
    result = net.parse_address(text)
    assert (str(result) if result else None) == expected


def test_all_hops_trusted_gives_leftmost() -> None:
    assert str(net.client_address("10.0.0.2", "10.1.1.1, 10.0.0.3", PROXIES)) == "10.1.1.1"


def test_in_networks_mixes_versions_safely() -> None:
    networks = net.parse_networks(["192.0.2.0/24", "2001:db8::/32"])
    assert net.in_networks(ipaddress.ip_address("192.0.2.77"), networks)
    assert net.in_networks(ipaddress.ip_address("2001:db8::9"), networks)
    assert not net.in_networks(ipaddress.ip_address("198.51.100.1"), networks)
    assert not net.in_networks(None, networks)


def test_parse_networks_names_the_bad_entry() -> None:
    with pytest.raises(ValueError, match="entry 2"):
        net.parse_networks(["192.0.2.0/24", "192.0.2.0/33"])
    assert net.parse_networks(["", " 192.0.2.1 "]) == [ipaddress.ip_network("192.0.2.1/32")]
