/**
 * Capacity planning before spending money: compare picker configurations on a simulated workload
 * and write an HTML report. `npx tsx examples/simulate.ts [report.html]` (simulator, virtual time).
 * The same from the command line: `autopicker simulate --config examples/simulate.json --out report.html`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { renderHtmlReport, renderTextSummary, type SimulationConfig, simulate } from "../src/simulate";

async function main(): Promise<void> {
  const config = JSON.parse(
    readFileSync(new URL("./simulate.json", import.meta.url), "utf8"),
  ) as SimulationConfig;
  const result = await simulate(config, {
    onScenario: (e) => e.phase === "start" && console.error(`simulating ${e.scenario}...`),
  });
  console.log(renderTextSummary(result));
  const out = process.argv[2] ?? "autopicker-simulation.html";
  writeFileSync(out, renderHtmlReport(result));
  console.log(`Report: ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
