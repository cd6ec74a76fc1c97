/**
 * Seeded randomness for the simulation. Draws are counter-based (a hash of seed, stream and index),
 * not a sequence: call 17 on the fallback gets the same latency whichever order calls finish in and
 * whichever scenario runs, so two configurations see the same world and differ only by what the
 * picker decided (common random numbers). A hash is a dozen lines; a PRNG library would add a
 * dependency and still need this indexing on top.
 */
import type { Arrivals, LatencySpec } from "./types";

/** z such that P(Z <= z) = 0.99 for a standard normal Z. */
const Z99 = 2.3263478740408408;

/** Independent streams of draws. */
export const STREAM = { arrivals: 1, latency: 2, jitter: 3 } as const;

/** A uniform draw in (0, 1), fixed by its coordinates. */
export function uniform(seed: number, stream: number, a: number, b = 0, c = 0): number {
  let h = mix(seed ^ 0x9e3779b9);
  h = mix(h ^ stream);
  h = mix(h ^ a);
  h = mix(h ^ b);
  h = mix(h ^ c);
  return (h + 0.5) / 4_294_967_296;
}

/** murmur3's 32-bit finalizer after a golden-ratio step: every input bit affects every output bit. */
function mix(x: number): number {
  let h = (x + 0x6d2b79f5) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A standard normal draw (Box-Muller) at the given coordinates. */
function normal(seed: number, stream: number, a: number, b: number): number {
  const u1 = uniform(seed, stream, a, b, 0);
  const u2 = uniform(seed, stream, a, b, 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Lognormal parameters from a median and a 99th percentile. */
function lognormal(spec: { median: number; p99: number }): { mu: number; sigma: number } {
  return { mu: Math.log(spec.median), sigma: Math.log(spec.p99 / spec.median) / Z99 };
}

/** The virtual latency, whole ms, of call `call` answered by model number `model`. */
export function sampleLatency(spec: LatencySpec, seed: number, model: number, call: number): number {
  if (typeof spec === "number") return spec;
  const { mu, sigma } = lognormal(spec);
  return Math.round(Math.exp(mu + sigma * normal(seed, STREAM.latency, model, call)));
}

/** The mean of a latency spec, ms (a lognormal's mean is above its median). */
export function meanLatency(spec: LatencySpec): number {
  if (typeof spec === "number") return spec;
  const { mu, sigma } = lognormal(spec);
  return Math.exp(mu + (sigma * sigma) / 2);
}

/**
 * Arrival instants (virtual ms from the start, ascending) of `calls` calls on `arrivals`. `lane`
 * numbers the streams of a mixed workload, so each draws its own Poisson gaps.
 */
export function arrivalTimes(arrivals: Arrivals, calls: number, seed: number, lane = 0): number[] {
  const out: number[] = new Array(calls);
  switch (arrivals.pattern) {
    case "steady": {
      const gap = 60_000 / arrivals.perMinute;
      for (let i = 0; i < calls; i++) out[i] = Math.round(i * gap);
      return out;
    }
    case "poisson": {
      // Exponential gaps; the first call comes at 0 so every pattern starts at the same instant.
      const mean = 60_000 / arrivals.perMinute;
      let t = 0;
      for (let i = 0; i < calls; i++) {
        if (i > 0) t += -Math.log(uniform(seed, STREAM.arrivals, i, lane)) * mean;
        out[i] = Math.round(t);
      }
      return out;
    }
    case "bursts":
      for (let i = 0; i < calls; i++) out[i] = Math.floor(i / arrivals.size) * arrivals.everySeconds * 1000;
      return out;
  }
}

/**
 * A seeded source of draws in (0, 1) for the picker's backoff jitter. Every scenario gets the same
 * sequence (common random numbers), so configurations differ by their settings, not their luck.
 */
export function jitterSource(seed: number): () => number {
  let n = 0;
  return () => uniform(seed, STREAM.jitter, n++);
}
