// A seeded generator (mulberry32) so that a fixed seed gives fixed ids and a fixed fault schedule.
// Not cryptographic: the emulator's tokens and keys only have to be unique, not secret.

export type Random = {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  hex(length: number): string;
  alnumUpper(length: number): string;
  alnum(length: number): string;
  uuid(): string;
};

const HEX = "0123456789abcdef";
const ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  const pick = (alphabet: string, length: number): string => {
    let out = "";
    for (let i = 0; i < length; i++) {
      out += alphabet.charAt(int(alphabet.length));
    }
    return out;
  };
  const hex = (length: number): string => pick(HEX, length);
  return {
    next,
    int,
    hex,
    alnumUpper: (length) => pick(ALNUM_UPPER, length),
    alnum: (length) => pick(ALNUM, length),
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick("89ab", 1)}${hex(3)}-${hex(12)}`,
  };
}
