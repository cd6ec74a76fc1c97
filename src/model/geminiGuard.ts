import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * `@google/generative-ai`'s `generateContentStream` returns `{ stream, response }`, where
 * `response` is a second read of the same body; `ChatGoogleGenerativeAI` reads only `stream`. When
 * the body breaks off (a cut connection), `response` rejects with nobody listening: an unhandled
 * rejection, which by default ends a Node process. Only the SDK's public method exposes that
 * promise, so the guard wraps it once to mark `response` handled. It changes nothing else: a caller
 * that awaits `response` still gets the rejection. Installed when a picker has a Gemini model.
 */
const GUARDED = Symbol.for("langchain-autopicker.gemini-stream-guard");

type StreamResult = { response?: Promise<unknown> };
type GenerativeModelProto = {
  generateContentStream?: (...args: unknown[]) => Promise<StreamResult>;
  [GUARDED]?: true;
};

function guard(mod: unknown): void {
  const proto = (mod as { GenerativeModel?: { prototype?: GenerativeModelProto } } | undefined)
    ?.GenerativeModel?.prototype;
  const original = proto?.generateContentStream;
  if (!proto || typeof original !== "function" || proto[GUARDED]) return;
  proto.generateContentStream = async function (this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    result?.response?.catch(() => undefined);
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
