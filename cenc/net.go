package cenc

import "net/netip"

// IP address codecs, as compact-encoding 3.5.2 (and compact-encoding-net)
// define them. Addresses are net/netip values; a port is a little-endian
// uint16 after the address. Encoding never fails:
//
//   - An IPv4 field given an IPv4-mapped IPv6 address writes the IPv4
//     address; given any other IPv6 address, or the zero Addr, it writes
//     0.0.0.0. (JS parses the host string without checking it; for a
//     missing host compact-encoding leaves the bytes unwritten and
//     compact-encoding-net writes 127.0.0.1.)
//   - An IPv6 field writes an IPv4 address IPv4-mapped and the zero Addr as
//     ::, and drops zones.
//   - An ip field writes family 4 for an IPv4 address (and for the zero
//     Addr, as 0.0.0.0) and family 6 for any IPv6 one, IPv4-mapped
//     included, so callers that want family 4 Unmap first.
//
// Decoding an ip field with a family byte other than 4 or 6 is ErrInvalid;
// JS reads such an address as IPv6, which no encoder writes.

const (
	familyIPv4 = 4
	familyIPv6 = 6
)

// AppendIPv4 appends a as 4 bytes (codec ipv4).
func AppendIPv4(b []byte, a netip.Addr) []byte {
	a = a.Unmap()
	if !a.Is4() {
		return append(b, 0, 0, 0, 0)
	}
	v := a.As4()
	return append(b, v[:]...)
}

// AppendIPv6 appends a as 16 bytes (codec ipv6).
func AppendIPv6(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		a = netip.IPv6Unspecified()
	}
	v := a.As16()
	return append(b, v[:]...)
}

// IPLen returns the size of AppendIP(nil, a): 5 or 17.
func IPLen(a netip.Addr) int {
	if is4(a) {
		return 1 + 4
	}
	return 1 + 16
}

// AppendIP appends a family byte, 4 or 6, then a in that family (codec ip).
func AppendIP(b []byte, a netip.Addr) []byte {
	if is4(a) {
		return AppendIPv4(append(b, familyIPv4), a)
	}
	return AppendIPv6(append(b, familyIPv6), a)
}

func is4(a netip.Addr) bool { return a.Is4() || !a.IsValid() }

// IPv4 reads 4 bytes as an IPv4 address (codec ipv4).
func (d *Decoder) IPv4() netip.Addr {
	p := d.take(4)
	if p == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(p))
}

// IPv6 reads 16 bytes as an IPv6 address (codec ipv6); an IPv4-mapped
// address stays IPv6.
func (d *Decoder) IPv6() netip.Addr {
	p := d.take(16)
	if p == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(p))
}

// IP reads a family byte and an address of that family (codec ip).
func (d *Decoder) IP() netip.Addr {
	switch d.Uint8() {
	case familyIPv4:
		return d.IPv4()
	case familyIPv6:
		return d.IPv6()
	}
	d.Fail(ErrInvalid)
	return netip.Addr{}
}

// AppendIPv4Address appends the address, then the port (codec
// ipv4Address, 6 bytes).
func AppendIPv4Address(b []byte, ap netip.AddrPort) []byte {
	return AppendUint16(AppendIPv4(b, ap.Addr()), ap.Port())
}

// AppendIPv6Address appends the address, then the port (codec
// ipv6Address, 18 bytes).
func AppendIPv6Address(b []byte, ap netip.AddrPort) []byte {
	return AppendUint16(AppendIPv6(b, ap.Addr()), ap.Port())
}

// IPAddressLen returns the size of AppendIPAddress(nil, ap): 7 or 19.
func IPAddressLen(ap netip.AddrPort) int { return IPLen(ap.Addr()) + 2 }

// AppendIPAddress appends the family byte, the address, then the port
// (codec ipAddress).
func AppendIPAddress(b []byte, ap netip.AddrPort) []byte {
	return AppendUint16(AppendIP(b, ap.Addr()), ap.Port())
}

// IPv4Address reads codec ipv4Address.
func (d *Decoder) IPv4Address() netip.AddrPort { return d.addrPort(d.IPv4()) }

// IPv6Address reads codec ipv6Address.
func (d *Decoder) IPv6Address() netip.AddrPort { return d.addrPort(d.IPv6()) }

// IPAddress reads codec ipAddress.
func (d *Decoder) IPAddress() netip.AddrPort { return d.addrPort(d.IP()) }

// addrPort reads the port that follows a.
func (d *Decoder) addrPort(a netip.Addr) netip.AddrPort {
	port := d.Uint16()
	if d.err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, port)
}

// Codecs of IP addresses.
var (
	// IPv4 is codec ipv4.
	IPv4 Codec[netip.Addr] = fixedCodec(4, AppendIPv4, (*Decoder).IPv4)
	// IPv6 is codec ipv6.
	IPv6 Codec[netip.Addr] = fixedCodec(16, AppendIPv6, (*Decoder).IPv6)
	// IP is codec ip: a family byte, then an IPv4 or IPv6 address.
	IP Codec[netip.Addr] = funcCodec[netip.Addr]{IPLen, AppendIP, (*Decoder).IP}
	// IPv4Address is codec ipv4Address.
	IPv4Address Codec[netip.AddrPort] = fixedCodec(6, AppendIPv4Address, (*Decoder).IPv4Address)
	// IPv6Address is codec ipv6Address.
	IPv6Address Codec[netip.AddrPort] = fixedCodec(18, AppendIPv6Address, (*Decoder).IPv6Address)
	// IPAddress is codec ipAddress.
	IPAddress Codec[netip.AddrPort] = funcCodec[netip.AddrPort]{IPAddressLen, AppendIPAddress, (*Decoder).IPAddress}
)
