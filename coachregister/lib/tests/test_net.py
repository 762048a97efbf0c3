from __future__ import annotations

import ipaddress

import pytest

from coachregister.lib import net

pytestmark = pytest.mark.article("12.2")

PROXIES = net.parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # A forged header from an untrusted peer is ignored.
        ("203.0.113.5", "192.0.2.10", "203.0.113.5"),
        # Through a trusted proxy, the first untrusted hop from the right is the client.
        ("10.0.0.2", "192.0.2.10", "192.0.2.10"),
        ("10.0.0.2", "192.0.2.10, 10.0.0.7", "192.0.2.10"),
        # A client that prepends a fake office address cannot hide behind it.
        ("10.0.0.2", "192.0.2.10, 198.51.100.4", "198.51.100.4"),
        # Malformed chains are not evidence: the peer stays the client.
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        ("::ffff:192.0.2.1", None, "192.0.2.1"),
        (None, "192.0.2.10", None),
    ],
)
def test_client_address(remote: str | None, forwarded: str | None, expected: str | None) -> None:
    result = net.client_address(remote, forwarded, PROXIES)
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
