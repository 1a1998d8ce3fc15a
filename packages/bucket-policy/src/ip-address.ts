/**
 * IPv4 and IPv6 addresses and CIDR blocks, for IpAddress / NotIpAddress. IAM takes both families
 * ("203.0.113.0/24 or 2001:DB8:1234:5678::/64"; an address without a prefix is a single address).
 */
export type IpBlock = { readonly version: 4 | 6; readonly address: bigint; readonly prefix: number };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses `address` or `address/prefix`; undefined for anything else (zones, ports, garbage). */
export function parseIpBlock(text: string): IpBlock | undefined {
  const value = text.trim();
  const slash = value.indexOf("/");
  const host = slash < 0 ? value : value.slice(0, slash);
  const prefixText = slash < 0 ? undefined : value.slice(slash + 1);
  const parsed = host.includes(":") ? parseIpv6(host) : parseIpv4(host);
  if (parsed === undefined) {
    return undefined;
  }
  const bits = parsed.version === 4 ? 32 : 128;
  if (prefixText === undefined) {
    return { ...parsed, prefix: bits };
  }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return undefined;
  }
  return { ...parsed, prefix: Number(prefixText) };
}

/** Whether `address` (a single address) lies in `block`; addresses of the other family never do. */
export function ipInBlock(address: IpBlock, block: IpBlock): boolean {
  if (address.version !== block.version) {
    return false;
  }
  const hostBits = BigInt((address.version === 4 ? 32 : 128) - block.prefix);
  return address.address >> hostBits === block.address >> hostBits;
}

function parseIpv4(text: string): { version: 4; address: bigint } | undefined {
  const parts = IPV4.exec(text);
  if (parts === null) {
    return undefined;
  }
  const octets = parts.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) {
    return undefined;
  }
  return { version: 4, address: octets.reduce((sum, octet) => sum * 256n + BigInt(octet), 0n) };
}

function parseIpv6(text: string): { version: 6; address: bigint } | undefined {
  let groupsText = text;
  let embedded: bigint | undefined;
  // An embedded IPv4 address (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    embedded = parseIpv4(text.slice(lastColon + 1))?.address;
    if (embedded === undefined) {
      return undefined;
    }
    groupsText = text.slice(0, lastColon + 1);
    groupsText = groupsText.endsWith("::") ? groupsText : groupsText.slice(0, -1);
  }
  const halves = groupsText.split("::");
  if (halves.length > 2) {
    return undefined;
  }
  const split = (part: string | undefined): string[] =>
    part === undefined || part === "" ? [] : part.split(":");
  const head = split(halves[0]);
  const tail = split(halves[1]);
  if (![...head, ...tail].every((group) => HEX_GROUP.test(group))) {
    return undefined;
  }
  const width = head.length + tail.length + (embedded === undefined ? 0 : 2);
  if (halves.length === 2 ? width > 7 : width !== 8) {
    return undefined;
  }
  const zeros = Array.from({ length: 8 - width }, () => "0");
  const groups = [...head, ...(halves.length === 2 ? zeros : []), ...tail];
  const address = groups.reduce((sum, group) => (sum << 16n) + BigInt(Number.parseInt(group, 16)), 0n);
  return { version: 6, address: embedded === undefined ? address : (address << 32n) + embedded };
}
