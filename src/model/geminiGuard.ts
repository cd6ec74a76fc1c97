import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * Two repairs to `@google/generative-ai`'s `generateContentStream`, the SDK's public method (the
 * only place either can be made), installed once when a picker has a Gemini model:
 * - It returns `{ stream, response }`, where `response` is a second read of the same body;
 *   `ChatGoogleGenerativeAI` reads only `stream`. When the body breaks off (a cut connection),
 *   `response` rejects with nobody listening: an unhandled rejection, which by default ends a Node
 *   process. The guard marks it handled; a caller that awaits `response` still gets the rejection.
 * - A withheld answer ends with an event that has a `finishReason` (`SAFETY`, ...) but no content,
 *   or, for a blocked prompt, `promptFeedback` and no candidate. `ChatGoogleGenerativeAI` skips
 *   events without content, so a stream filtered mid-answer read as complete. The guard gives such
 *   an event an empty content, so it arrives as an empty chunk whose generation info carries the
 *   finish reason (and the prompt feedback), as an invoke's result does.
 */
const GUARDED = Symbol.for("langchain-autopicker.gemini-stream-guard");

type Candidate = { content?: unknown; finishReason?: unknown; [k: string]: unknown };
type StreamResponse = {
  candidates?: Candidate[];
  promptFeedback?: { blockReason?: unknown };
  usageMetadata?: unknown;
};
type StreamResult = { stream?: AsyncIterable<StreamResponse>; response?: Promise<unknown> };
type GenerativeModelProto = {
  generateContentStream?: (...args: unknown[]) => Promise<StreamResult>;
  [GUARDED]?: true;
};

const EMPTY = { role: "model", parts: [] } as const;

/** The event as LangChain must see it for a finish reason or a blocked prompt to reach the caller. */
export function surfaceWithheld(r: StreamResponse): StreamResponse {
  const [first, ...others] = r.candidates ?? [];
  if (first) {
    if (first.content || typeof first.finishReason !== "string") return r;
    return { ...r, candidates: [{ ...first, content: EMPTY }, ...others] };
  }
  if (typeof r.promptFeedback?.blockReason !== "string") return r;
  return { ...r, candidates: [{ content: EMPTY, promptFeedback: r.promptFeedback }] };
}

/**
 * The stream with withheld events surfaced. LangChain reuses the last usage it saw for an event
 * that carries none (usage is cumulative on Gemini; it emits the difference), so a surfaced event
 * without usage gets the last one seen: its difference is zero, nothing is counted twice.
 */
async function* surfaced(stream: AsyncIterable<StreamResponse>): AsyncGenerator<StreamResponse> {
  let usage: unknown;
  for await (const r of stream) {
    if (r.usageMetadata !== undefined) usage = r.usageMetadata;
    const out = surfaceWithheld(r);
    yield out === r || out.usageMetadata !== undefined || usage === undefined
      ? out
      : { ...out, usageMetadata: usage };
  }
}

function guard(mod: unknown): void {
  const proto = (mod as { GenerativeModel?: { prototype?: GenerativeModelProto } } | undefined)
    ?.GenerativeModel?.prototype;
  const original = proto?.generateContentStream;
  if (!proto || typeof original !== "function" || proto[GUARDED]) return;
  proto.generateContentStream = async function (this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    result?.response?.catch(() => undefined);
    if (result?.stream) return { ...result, stream: surfaced(result.stream) };
    return result;
  };
  proto[GUARDED] = true;
}

let installing: Promise<void> | undefined;

/** Guards the SDK's ESM and CommonJS builds (either may be the one LangChain loaded). Never throws. */
export function guardGeminiStreams(): Promise<void> {
  const sdk = "@google/generative-ai";
  installing ??= (async () => {
    try {
      // A variable, so bundlers of apps without Gemini do not try to resolve it.
      guard(await import(sdk));
    } catch {
      // Not installed (no Gemini model after all), or not resolvable from here.
    }
    try {
      // The CommonJS copy: the one @langchain/google-genai resolves, found from the app's root
      // (a CommonJS app loads LangChain, and so the SDK, in that form).
      const fromApp = createRequire(join(process.cwd(), "index.js"));
      const base = fromApp.resolve("@langchain/google-genai");
      guard(createRequire(base)(sdk));
    } catch {
      // As above.
    }
  })();
  return installing;
}
