import { readFile, writeFile } from "node:fs/promises";
import { AutoPickerConfigError } from "../errors";
import { applyFlags, parseFlags, USAGE, UsageError } from "./cliFlags";
import { renderHtmlReport } from "./report";
import { simulate } from "./run";
import { parseConfig } from "./schema";
import { renderTextSummary } from "./summary";
import type { SimulationConfig } from "./types";

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, content: string) => Promise<void>;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFile(p, "utf8"),
  writeFile: (p, c) => writeFile(p, c, "utf8"),
};

const PREFIX = "autopicker simulate:";
const HELP_HINT = "Run `autopicker simulate --help` for the options.";

/**
 * Runs the CLI with `argv` (without `node` and the script); resolves to the exit code: 0 done,
 * 1 the config or the run failed, 2 the command line is wrong.
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const { values, positionals } = parseFlags(argv);
    if (values.help || positionals[0] === "help") {
      io.stdout(USAGE);
      return 0;
    }
    if (positionals[0] !== "simulate") {
      throw new UsageError(
        positionals[0] === undefined
          ? "Missing the command: simulate."
          : `Unknown command "${positionals[0]}".`,
      );
    }
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const base = values.config === undefined ? undefined : await readConfig(values.config, io);
    const config = applyFlags(base, values);
    const result = await simulate(config, {
      onScenario: (e) => {
        if (e.phase === "start") io.stderr(`simulating ${e.scenario} (${e.index + 1}/${e.total})...\n`);
      },
    });
    io.stdout(`${renderTextSummary(result)}\n`);
    const out = values.out ?? "autopicker-simulation.html";
    await io.writeFile(out, renderHtmlReport(result));
    io.stdout(`Report: ${out}\n`);
    if (values.json) {
      await io.writeFile(values.json, JSON.stringify(result, null, 2));
      io.stdout(`Result JSON: ${values.json}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${PREFIX} ${error.message}\n${HELP_HINT}\n`);
      return 2;
    }
    const message = error instanceof AutoPickerConfigError ? error.message : String(error);
    io.stderr(`${PREFIX} ${message}\n`);
    return 1;
  }
}

/** Reads and checks the `--config` file; its problems are named by their path in the file. */
async function readConfig(path: string, io: CliIo): Promise<SimulationConfig> {
  let text: string;
  try {
    text = await io.readFile(path);
  } catch (error) {
    throw new AutoPickerConfigError(`can't read --config ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AutoPickerConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseConfig(json, path);
  } catch (error) {
    if (!(error instanceof AutoPickerConfigError)) throw error;
    throw new AutoPickerConfigError(`in ${path}: ${error.message}`);
  }
}
