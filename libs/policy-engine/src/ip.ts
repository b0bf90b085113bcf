/**
 * IPv4 and IPv6 addresses and ranges, as 32-bit words. The parser allocates nothing: it writes
 * into a caller's Uint32Array(4) and says how many words it wrote (1: IPv4, including
 * IPv4-mapped IPv6 `::ffff:a.b.c.d`; 4: IPv6; 0: not an address). A zone (`fe80::1%eth0`) is
 * ignored. IPv4 parts with leading zeros (`010.1.2.3`, octal to some parsers) are refused.
 */

/** Why `text` is not an IPv4/IPv6 range (`a.b.c.d/n`, `x::/n`, or a bare address), or undefined. */
export function cidrError(text: string): string | undefined {
  const bad = `must be an IPv4 or IPv6 range, e.g. 10.0.0.0/8 or 2001:db8::/32 (got "${text}")`;
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  if (addr.includes('%')) return bad;
  const words = new Uint32Array(4);
  const n = parseIpInto(addr, words);
  if (n === 0) return bad;
  if (n === 1 && addr.includes(':')) {
    return `"${addr}" is an IPv4-mapped IPv6 address: write it as IPv4`;
  }
  const max = n * 32;
  if (slash !== -1 && !/^[0-9]{1,3}$/.test(text.slice(slash + 1))) return bad;
  const bits = slash === -1 ? max : Number(text.slice(slash + 1));
  if (bits > max) return `prefix length /${bits} is longer than ${max} bits`;
  // Host bits must be zero: 10.1.0.0/8 is probably a mistake for 10.0.0.0/8 or 10.1.0.0/16.
  for (let w = 0; w < n; w++) {
    if ((words[w] & ~maskOf(bits, w)) >>> 0 !== 0) {
      return `"${text}" has bits set after the /${bits} prefix`;
    }
  }
  return undefined;
}

/** The mask of word `w` (0..3) of a /bits prefix. */
export function maskOf(bits: number, w: number): number {
  const keep = Math.max(0, Math.min(32, bits - 32 * w));
  return keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
}

/** Parses `text` into `out`; 1 (IPv4), 4 (IPv6) or 0 (not an address). */
export function parseIpInto(text: string, out: Uint32Array): number {
  if (typeof text !== 'string') return 0;
  let end = text.indexOf('%');
  if (end === -1) end = text.length;
  if (end === 0 || end > 45) return 0;
  if (text.indexOf(':') === -1 || text.indexOf(':') > end) {
    const v4 = parseIPv4(text, 0, end);
    if (v4 === -1) return 0;
    out[0] = v4;
    return 1;
  }
  return parseIPv6(text, end, out);
}

/** `s[start, end)` as an IPv4 address (an unsigned 32-bit number), or -1. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part > 255 || parts === 4) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // no leading zeros
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  return parts === 4 ? value >>> 0 : -1;
}

const groups = new Uint16Array(8);

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIPv6(s: string, end: number, out: Uint32Array): number {
  let n = 0; // groups read
  let gap = -1; // where `::` stands, in groups
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return 0;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const d = hexDigit(s.charCodeAt(j));
      if (d === -1) break;
      value = value * 16 + d;
      if (++digits > 4) return 0;
    }
    if (j < end && s.charCodeAt(j) === 46 /* . */) {
      // an IPv4 address as the last 32 bits
      if (n > 6) return 0;
      const v4 = parseIPv4(s, i, end);
      if (v4 === -1) return 0;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || n === 8) return 0;
    groups[n++] = value;
    if (j === end) {
      i = j;
      break;
    }
    if (s.charCodeAt(j) !== 58) return 0;
    j++;
    if (j < end && s.charCodeAt(j) === 58) {
      if (gap !== -1) return 0;
      gap = n;
      j++;
    } else if (j === end) return 0; // a trailing single colon
    i = j;
  }
  if (gap === -1) {
    if (n !== 8) return 0;
  } else {
    if (n > 7) return 0;
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k];
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    out[0] = ((groups[6] << 16) | groups[7]) >>> 0;
    return 1;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w] << 16) | groups[2 * w + 1]) >>> 0;
  return 4;
}
