import { describe, expect, it } from "vitest";
import { ipInBlock, parseIpBlock } from "./ip-address.js";

// IAM "Condition operators" > "IP address condition operators": IPv4 or IPv6, "standard CIDR
// format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64)", /32 (or /128) by default.

const inside = (address: string, block: string) => {
  const parsedAddress = parseIpBlock(address);
  const parsedBlock = parseIpBlock(block);
  if (parsedAddress === undefined || parsedBlock === undefined) {
    throw new Error(`unparsable: ${address} ${block}`);
  }
  return ipInBlock(parsedAddress, parsedBlock);
};

describe("parseIpBlock", () => {
  it.each([
    ["203.0.113.9", { version: 4, address: 0xcb007109n, prefix: 32 }],
    ["203.0.113.0/24", { version: 4, address: 0xcb007100n, prefix: 24 }],
    ["::1", { version: 6, address: 1n, prefix: 128 }],
    ["::", { version: 6, address: 0n, prefix: 128 }],
    ["2001:DB8:1234:5678::/64", { version: 6, address: 0x20010db8123456780000000000000000n, prefix: 64 }],
    ["fe80::1:2", { version: 6, address: 0xfe800000000000000000000000010002n, prefix: 128 }],
    ["1:2:3:4:5:6:7:8", { version: 6, address: 0x00010002000300040005000600070008n, prefix: 128 }],
    ["::ffff:192.0.2.1", { version: 6, address: 0xffffc0000201n, prefix: 128 }],
    ["64:ff9b::192.0.2.33/96", { version: 6, address: 0x0064ff9b0000000000000000c0000221n, prefix: 96 }],
  ])("reads %s", (text, expected) => {
    expect(parseIpBlock(text)).toEqual(expected);
  });

  it.each([
    "",
    "256.0.0.1",
    "10.0.0.0/33",
    "1.2.3",
    "2001:db8::/129",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "12345::",
    "fe80::1%eth0",
    "::ffff:999.0.2.1",
    "localhost",
  ])("refuses %j", (text) => {
    expect(parseIpBlock(text)).toBeUndefined();
  });
});

describe("ipInBlock", () => {
  it("matches addresses inside IPv4 and IPv6 blocks and nothing of the other family", () => {
    expect(inside("203.0.113.255", "203.0.113.0/24")).toBe(true);
    expect(inside("203.0.114.0", "203.0.113.0/24")).toBe(false);
    expect(inside("2001:db8:1234:5678:ffff::1", "2001:DB8:1234:5678::/64")).toBe(true);
    expect(inside("2001:db8:1234:5679::1", "2001:DB8:1234:5678::/64")).toBe(false);
    expect(inside("::1", "::1")).toBe(true);
    expect(inside("203.0.113.9", "::/0")).toBe(false);
    expect(inside("::1", "0.0.0.0/0")).toBe(false);
    expect(inside("8.8.8.8", "0.0.0.0/0")).toBe(true);
  });
});
