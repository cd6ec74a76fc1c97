/**
 * Answer times for the simulator (`SimModelConfig.latencyMs` as a function). Each call's time is
 * drawn from its prompt (a hash), so every contender and every retry of one call sees the same
 * answer time, and the benchmark can compute the minimum makespan for the very same draws. A 429
 * comes back at once, as providers refuse before generating.
 */
import type { SimRequest } from "../../src/testing";

/** What the benchmark asks for; JSON, so it can cross into the simulator's process. */
export type LatencySpec =
  | { kind: "fixed"; ms: number }
  /** Heavy-tailed: half the answers are faster than `medianMs`, 1% slower than `p99Ms`. */
  | { kind: "lognormal"; medianMs: number; p99Ms: number };

export function describeLatency(spec: LatencySpec): string {
  return spec.kind === "fixed"
    ? `${spec.ms / 1000} s`
    : `lognormal (median ${spec.medianMs / 1000} s, p99 ${spec.p99Ms / 1000} s)`;
}

/** The answer time of a call whose prompt is `prompt`. */
export function answerTime(spec: LatencySpec, prompt: string): number {
  if (spec.kind === "fixed") return spec.ms;
  const sigma = Math.log(spec.p99Ms / spec.medianMs) / Z99;
  return Math.round(spec.medianMs * Math.exp(sigma * inverseNormal(unit(prompt))));
}

/** The simulator's per-reply latency: the call's answer time, or 0 for a refusal. */
export function latencyFunction(spec: LatencySpec): (request: SimRequest, status: number) => number {
  return (request, status) => (status === 200 ? answerTime(spec, promptOf(request)) : 0);
}

/** The text the benchmark's calls differ by: the last message. */
export function promptOf(request: SimRequest): string {
  return request.messages[request.messages.length - 1]?.text ?? "";
}

const Z99 = 2.3263478740408408;

/** A prompt's hash as a number in (0, 1) (FNV-1a, 32 bit). */
function unit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h + 0.5) / 2 ** 32;
}

/** The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
