import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses the link-preview fetcher may connect to: public unicast only. Everything is decided on the
 * address's bytes, so no spelling gets around it — a URL host has been canonicalised by the WHATWG URL parser
 * first (`2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` all become `127.0.0.1`), and IPv6 forms that embed an
 * IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4
 * address inside. The list is docs/security.md "Link previews and SSRF".
 */

/** IPv4 ranges refused: [first octets as a number, prefix length, name]. */
const V4_REFUSED: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
  ['255.255.255.255', 32, 'broadcast'],
];

const v4Number = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const V4_TABLE = V4_REFUSED.map(([base, bits, name]) => ({ base: v4Number(base), bits, name }));

function v4Refusal(n: number): string | null {
  for (const r of V4_TABLE) {
    // Compare the top `bits` bits (division, not shifts: JS shifts are signed 32-bit).
    const size = 2 ** (32 - r.bits);
    if (Math.floor(n / size) === Math.floor(r.base / size)) return r.name;
  }
  return null;
}

/** 16 bytes of an IPv6 address in any textual form (`::`, an embedded dotted quad); null when malformed. */
export function ipv6Bytes(text: string): Uint8Array | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let s = text;
  // A trailing dotted quad (::ffff:127.0.0.1) becomes its two hex groups (::ffff:7f00:1).
  const lastColon = s.lastIndexOf(':');
  const quad = s.slice(lastColon + 1);
  if (quad.includes('.')) {
    const n = v4Number(quad);
    s = `${s.slice(0, lastColon + 1)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', rest] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length;
  if (rest === undefined && fill !== 0) return null;
  if (fill < 0) return null;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

const v4Of = (b: Uint8Array, at: number) => ((b[at]! * 256 + b[at + 1]!) * 256 + b[at + 2]!) * 256 + b[at + 3]!;
const v4Text = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
const zeros = (b: Uint8Array, from: number, to: number) => b.slice(from, to).every((x) => x === 0);

function v6Refusal(b: Uint8Array): string | null {
  // ::ffff:a.b.c.d (IPv4-mapped): judged as the IPv4 address it is.
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) {
    const inner = v4Refusal(v4Of(b, 12));
    return inner && `IPv4-mapped ${inner} (${v4Text(v4Of(b, 12))})`;
  }
  // ::/96: unspecified (::), loopback (::1), and the deprecated IPv4-compatible form (::a.b.c.d) — all refused.
  if (zeros(b, 0, 12)) {
    if (zeros(b, 12, 15) && b[15] === 0) return 'unspecified (::)';
    if (zeros(b, 12, 15) && b[15] === 1) return 'loopback (::1)';
    return 'IPv4-compatible IPv6 (::a.b.c.d, deprecated)';
  }
  // 64:ff9b::/96, well-known NAT64 prefix: the gateway would connect to the IPv4 address inside.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12)) {
    const inner = v4Refusal(v4Of(b, 12));
    return inner && `NAT64 ${inner} (${v4Text(v4Of(b, 12))})`;
  }
  // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): the embedding is operator-chosen, so refused whole.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b[4] === 0x00 && b[5] === 0x01) {
    return 'local-use NAT64 (64:ff9b:1::/48)';
  }
  // 2002::/16, 6to4: the IPv4 address in bytes 2–5 is where the relay goes.
  if (b[0] === 0x20 && b[1] === 0x02) {
    const inner = v4Refusal(v4Of(b, 2));
    return inner && `6to4 ${inner} (${v4Text(v4Of(b, 2))})`;
  }
  // Only global unicast (2000::/3) is public; that leaves out ULA fc00::/7, link-local fe80::/10, multicast ff00::/8,
  // site-local fec0::/10 and every other reserved block.
  if ((b[0]! & 0xe0) !== 0x20) {
    if ((b[0]! & 0xfe) === 0xfc) return 'unique local (fc00::/7)';
    if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local (fe80::/10)';
    if (b[0] === 0xff) return 'multicast (ff00::/8)';
    return 'reserved IPv6 (outside 2000::/3)';
  }
  // Inside 2000::/3: IETF protocol assignments incl. Teredo 2001::/32 (2001::/23), documentation 2001:db8::/32 and
  // 3fff::/20.
  if (b[0] === 0x20 && b[1] === 0x01 && b[2]! < 0x02) return 'IETF protocol assignments (2001::/23, Teredo)';
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'documentation (2001:db8::/32)';
  if (b[0] === 0x3f && b[1] === 0xff && (b[2]! & 0xf0) === 0) return 'documentation (3fff::/20)';
  return null;
}

/**
 * Why the fetcher must not connect to `address` (an IPv4 dotted quad or an IPv6 address in any textual form), or
 * null when it is public unicast. Anything that is not a well-formed address is refused.
 */
export function addressRefusal(address: string): string | null {
  if (isIPv4(address)) return v4Refusal(v4Number(address));
  const bytes = ipv6Bytes(address);
  if (!bytes) return `not an IP address (${address.slice(0, 60)})`;
  return v6Refusal(bytes);
}
