import { describe, expect, it } from "vitest";
import { formatIpv4, isIpv4, parseIpv4 } from "../../src/net/index.ts";

describe("parseIpv4", () => {
  it.each([
    ["0.0.0.0", 0],
    ["10.100.100.1", 0x0a646401],
    ["255.255.255.255", 0xffffffff],
  ])("reads %s as %d", (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each([
    "",
    "10.0.0",
    "10.0.0.1.2",
    "256.0.0.1",
    "010.0.0.1",
    "10.0.0.1/32",
    " 10.0.0.1",
    "10.0.0.1\n",
    "0x0a.0.0.1",
    "1e1.0.0.1",
    "::1",
    "10.0.0.-1",
  ])("refuses %j", (text) => {
    expect(parseIpv4(text)).toBeUndefined();
    expect(isIpv4(text)).toBe(false);
  });
});

describe("formatIpv4", () => {
  it("writes the dotted quad back", () => {
    expect(formatIpv4(0x0a646401)).toBe("10.100.100.1");
    expect(formatIpv4(0xffffffff)).toBe("255.255.255.255");
  });

  it.each([-1, 2 ** 32, 1.5, Number.NaN])("refuses %d", (value) => {
    expect(() => formatIpv4(value)).toThrow(RangeError);
  });
});
