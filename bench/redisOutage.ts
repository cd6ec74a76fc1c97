/**
 * Redis failing under a fleet: `npx tsx bench/redisOutage.ts` (markdown on stdout). Four processes
 * share 20 requests/s through a private redis-server (a free port, nothing on disk) while calls
 * keep coming; mid-run Redis is killed for 3 s and restarted empty, or paused for 5 s with
 * `DEBUG SLEEP`. What the provider saw: 429s and the busiest window against the limit.
 */
import { type OutageKind, runOutage } from "../__tests__/redis.outage";
import { redisServerBinary } from "../__tests__/support/redisServer";
import { percentile, seconds, table } from "./lib/stats";

const RUNS = Number(process.env.OUTAGE_RUNS ?? 1);

async function main(): Promise<void> {
  if (!redisServerBinary) {
    process.stdout.write("Skipped: no redis-server binary (install redis or set REDIS_SERVER_BIN).\n");
    return;
  }
  const rows: string[][] = [];
  const scenarios: Array<[OutageKind, string]> = [
    ["none", "Redis up throughout"],
    ["kill", "killed 1.5 s in, restarted empty 3 s later"],
    ["pause", "paused 1.5 s in for 5 s (DEBUG SLEEP)"],
  ];
  for (const [kind, label] of scenarios) {
    for (let run = 0; run < RUNS; run++) {
      process.stderr.write(`redisOutage: ${label}...`);
      const r = await runOutage({ kind });
      process.stderr.write(` ${seconds(r.elapsedMs)}\n`);
      rows.push([
        label,
        String(r.rateLimited),
        `${r.busiest} (limit ${r.limit}, allowed ${r.allowed})`,
        `${r.ok} of ${r.calls}`,
        seconds(r.elapsedMs),
        `${percentile(r.transitMs, 50)} / ${percentile(r.transitMs, 99)} ms`,
        String(r.warnings.length),
      ]);
    }
  }
  const r0 = { replicas: 4, limit: 20 };
  process.stdout.write(
    [
      `### ${r0.replicas} processes sharing ${r0.limit} requests/s through one Redis, which fails mid-run`,
      "",
      table(
        [
          "Redis",
          "provider 429s",
          "busiest 1 s window",
          "calls served",
          "run time",
          "transit p50 / p99",
          "outage warnings",
        ],
        rows,
      ),
      "",
      "How to read: each replica sends 80 calls, one every 40 ms (4x the limit together), fail-open",
      "with a 1/4 share each. *Allowed* is limit x (1 + fail-open share), the issue's bound for the",
      "busiest window while Redis fails. *Transit* is from the last byte written (undici) to the",
      "simulator's arrival stamp. One warning per replica per outage.",
      "",
    ].join("\n"),
  );
}

void main();
