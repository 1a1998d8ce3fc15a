import { describe, expect, it } from "vitest";
import { addressKey, createBudget } from "./rate-limit.js";

describe("addressKey", () => {
  it("keeps IPv4 addresses and counts an IPv6 client by its /64", () => {
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    const prefix = "2001:db8:1:2::/64";
    for (const ip of ["2001:db8:1:2::1", "2001:0db8:0001:0002:ffff:0:0:9", "2001:DB8:1:2:a:b:c:d"]) {
      expect(addressKey(ip)).toBe(prefix);
    }
    expect(addressKey("2001:db8:1:3::1")).not.toBe(prefix);
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("createBudget", () => {
  it("lets exactly `max` requests through per window, then says how long to wait", () => {
    let now = 1_000_000;
    const budget = createBudget(3, () => now);
    expect([1, 2, 3, 4].map(() => budget.take("a").allowed)).toEqual([true, true, true, false]);
    expect(budget.take("b").allowed).toBe(true);
    now += 20_000;
    expect(budget.take("a")).toEqual({ allowed: false, retryAfterMs: 40_000 });
    now += 40_000;
    expect(budget.take("a").allowed).toBe(true);
  });
});
