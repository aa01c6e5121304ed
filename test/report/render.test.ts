/** The report's terminal cells and renderings, without git: bars, locale detection, widths, escaping. */
import { describe, expect, it } from "vitest";
import { bar, clip, glyphsFor, userText, width } from "../../src/commands/report/cells.js";
import { cell, renderMarkdown } from "../../src/commands/report/markdown.js";
import { renderText } from "../../src/commands/report/text.js";
import { computeReport } from "../../src/core/report.js";
import type { Paint } from "../../src/ui/paint.js";
import { at, id, ledger } from "./ledger.js";

const plain: Paint = {
  bold: (s) => s,
  dim: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
  red: (s) => s,
  cyan: (s) => s,
};

describe("report cells", () => {
  it("draws bars in eighths, or whole # cells in ASCII; never empty for a non-zero value", () => {
    expect(bar(4, 4, 12, "unicode")).toBe("█".repeat(12));
    expect(bar(1, 4, 12, "unicode")).toBe("███"); // 3 cells
    expect(bar(1, 3, 1, "unicode")).toBe("▍"); // 8/3 = 2.67 → 3 eighths
    expect(bar(1, 5, 12, "unicode")).toBe("██▍"); // 12/5 = 2.4 cells = 19.2 → 19 eighths: 2 full + 3/8
    expect(bar(1, 1000, 12, "unicode")).toBe("▏");
    expect(bar(1, 5, 12, "ascii")).toBe("##"); // round(2.4)
    expect(bar(1, 1000, 12, "ascii")).toBe("#");
    expect(bar(0, 4, 12, "unicode")).toBe("");
  });

  it("picks Unicode from the locale in force, unless OPTOUT_ASCII=1", () => {
    expect(glyphsFor({ LANG: "en_US.UTF-8" })).toBe("unicode");
    expect(glyphsFor({ LC_CTYPE: "C.utf8" })).toBe("unicode");
    expect(glyphsFor({ LC_ALL: "C", LANG: "en_US.UTF-8" })).toBe("ascii"); // LC_ALL wins
    expect(glyphsFor({ LC_ALL: "", LANG: "en_US.UTF-8" })).toBe("unicode"); // empty is unset
    expect(glyphsFor({})).toBe("ascii");
    expect(glyphsFor({ LANG: "en_US.UTF-8", OPTOUT_ASCII: "1" })).toBe("ascii");
  });

  it("measures and cuts by terminal columns; user text is inert, and ASCII when asked", () => {
    expect(width("日本語")).toBe(6);
    expect(width("e\u0301")).toBe(1);
    expect(clip("日本語のテキスト", 7, "unicode")).toBe("日本語…");
    expect(clip("abcdefgh", 5, "ascii")).toBe("abcd~");
    expect(userText("a\u001b[31mred\u001b[0m\nnext 🔥", "ascii")).toBe("ared ? next ?");
  });

  it("escapes markdown table cells", () => {
    expect(cell("a | b `c` <img src=x> \\ d\ne")).toBe("a \\| b \\`c\\` &lt;img src=x&gt; \\\\ d ⏎ e");
  });
});

describe("report renderings of the hand-built ledger", () => {
  const report = (by: "type" | "actor" | "stage" | "env") =>
    computeReport(ledger(), { since: new Date(at(1)), until: new Date(at(90)), now: new Date(at(100)), by });

  it("text fits 80 columns in both glyph sets, ASCII stays ASCII", () => {
    for (const by of ["type", "actor", "stage", "env"] as const) {
      for (const glyphs of ["unicode", "ascii"] as const) {
        const lines = renderText(report(by), plain, glyphs).split("\n");
        for (const l of lines) expect(width(l), l).toBeLessThanOrEqual(80);
        if (glyphs === "ascii") expect(lines.join("\n")).toMatch(/^[\x20-\x7e\n]*$/);
      }
    }
    const text = renderText(report("type"), plain, "unicode");
    expect(text).toContain("  overrides     9");
    expect(text).toContain(`  active time   median 3h, longest 1d 16h (${id("G")})`);
    expect(text).toContain("  ended         7: 2 reverted early (29%), 3 expired (43%), 2 superseded");
    expect(text).toContain("  reviewed      5 of 9 (56%)");
    expect(text).toContain("  verdicts      3 justified, 1 unjustified, 1 needs-follow-up");
    expect(text).toMatch(/^ {2}skip {6}5 {2}█{12} {2}/m);
  });

  it("markdown has a header and separator row per table", () => {
    const lines = renderMarkdown(report("type")).split("\n");
    const head = lines.indexOf(
      "| type | overrides | median active | longest active | reverted early | expired | reviewed |",
    );
    expect(lines[head + 1]).toBe("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    expect(lines[head + 2]).toBe("| skip | 5 | 2h | 4h | 1 | 3 | 2 of 5 |");
    expect(lines).toContain("| linter crashes on node 22 | 4 |");
    expect(lines).toContain("| lint | 4 |");
  });
});
