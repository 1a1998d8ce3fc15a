import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeTextProblem, textProblem } from "./storable-text.js";

describe("textProblem", () => {
  it.each([
    ["NUL", "a\u0000b", "control_character"],
    ["a bell", "\u0007", "control_character"],
    ["DEL", "x\u007f", "control_character"],
    ["a C1 control", "\u0085", "control_character"],
    ["a noncharacter", "\uffff", "control_character"],
    ["a lone high surrogate", "ok \ud83d", "unpaired_surrogate"],
    ["a lone low surrogate", "\ude00 ok", "unpaired_surrogate"],
    ["surrogates the wrong way round", "\ude00\ud83d", "unpaired_surrogate"],
  ] as const)("refuses %s", (_name, text, problem) => {
    expect(textProblem(text)).toBe(problem);
    expect(textProblem(text, { multiline: true })).toBe(problem);
    expect(describeTextProblem(problem)).toMatch(/^must /);
  });

  it("accepts emoji, accents, right-to-left text; line breaks only where multiline", () => {
    for (const text of ["restore 🗄️ orders", "Zoë's ticket", "שלום", "", "a\u200bb"]) {
      expect(textProblem(text)).toBeNull();
    }
    expect(textProblem("line one\nline two\ttabbed\r\n")).toBe("line_break");
    expect(textProblem("line one\nline two\ttabbed\r\n", { multiline: true })).toBeNull();
  });

  it("accepts exactly the strings that survive a UTF-8 round trip and hold no control character", () => {
    fc.assert(
      // Any UTF-16 code units, lone surrogates included.
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
          maxLength: 40,
        }),
        (text) => {
          const wellFormed = Buffer.from(text, "utf8").toString("utf8") === text;
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
          const controls = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/.test(text);
          expect(textProblem(text, { multiline: true }) === null).toBe(wellFormed && !controls);
        },
      ),
      { seed: 12, numRuns: 2000 },
    );
  });
});
