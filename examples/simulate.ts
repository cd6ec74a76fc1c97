/**
 * Capacity planning before spending money: compare picker configurations on a simulated workload
 * and write an HTML report. `npx tsx examples/simulate.ts [report.html]` (simulator, virtual time;
 * the report goes to the temp dir unless you name a file).
 * The same from the command line: `autopicker simulate --config examples/simulate.json --out report.html`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  renderHtmlReport,
  renderTextSummary,
  type SimulationConfig,
  simulate,
} from "langchain-autopicker/simulate";

async function main(): Promise<void> {
  const config = JSON.parse(
    readFileSync(new URL("./simulate.json", import.meta.url), "utf8"),
  ) as SimulationConfig;
  const result = await simulate(config, {
    onScenario: (e) => e.phase === "start" && console.error(`simulating ${e.scenario}...`),
  });
  console.log(renderTextSummary(result));
  // Default to the temp dir: running an example should not leave files in your checkout.
  const out = process.argv[2] ?? join(tmpdir(), "autopicker-simulation.html");
  writeFileSync(out, renderHtmlReport(result));
  console.log(`Report: ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
