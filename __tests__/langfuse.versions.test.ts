import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadedVersion, VERSIONED_PACKAGES } from "./langfuse.helpers";

/**
 * Which @langfuse/* and OpenTelemetry SDK versions the Langfuse suites run against. Plain `jest`:
 * the devDependencies (the newest 5.x). `npm run test:langfuse-oldest`: the oldest the peer ranges
 * allow, installed aside and mapped in; it sets AUTOPICKER_EXPECT_LANGFUSE / AUTOPICKER_EXPECT_OTEL_SDK
 * so that a mapping gone wrong fails here instead of silently testing the newest again.
 */
const manifest = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as {
  peerDependencies: Record<string, string>;
};
const loaded = Object.fromEntries(VERSIONED_PACKAGES.map((p) => [p, loadedVersion(p)]));

/** `^a.b.c`: same major, at least a.b.c (every peer range here is a caret range). */
function satisfiesCaret(version: string, range: string): boolean {
  const parse = (v: string) => v.replace(/^\^/, "").split(".").map(Number) as [number, number, number];
  const [maj, min, pat] = parse(version);
  const [rMaj, rMin, rPat] = parse(range);
  return maj === rMaj && (min > rMin || (min === rMin && pat >= rPat));
}

describe("the Langfuse and OpenTelemetry versions under test", () => {
  it(`loads ${process.env.AUTOPICKER_EXPECT_LANGFUSE ?? "the installed"} @langfuse/* and OpenTelemetry SDK ${process.env.AUTOPICKER_EXPECT_OTEL_SDK ?? "(installed)"}`, () => {
    const langfuse = VERSIONED_PACKAGES.filter((p) => p.startsWith("@langfuse/")).map((p) => loaded[p]);
    // One version of the whole @langfuse family, as npm installs it.
    expect(new Set(langfuse).size).toBe(1);
    const expectLangfuse = process.env.AUTOPICKER_EXPECT_LANGFUSE;
    if (expectLangfuse) expect(langfuse[0]).toBe(expectLangfuse);
    const expectSdk = process.env.AUTOPICKER_EXPECT_OTEL_SDK;
    if (expectSdk) {
      expect(loaded["@opentelemetry/sdk-trace-node"]).toBe(expectSdk);
      expect(loaded["@opentelemetry/sdk-trace-base"]).toBe(expectSdk);
    }
  });

  it("every loaded version is inside the peer range the package declares", () => {
    for (const [pkg, range] of Object.entries(manifest.peerDependencies)) {
      if (!(pkg in loaded)) continue;
      expect({ pkg, version: loaded[pkg], ok: satisfiesCaret(loaded[pkg]!, range) }).toEqual({
        pkg,
        version: loaded[pkg],
        ok: true,
      });
    }
  });
});
