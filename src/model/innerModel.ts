import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AsyncCaller } from "@langchain/core/utils/async_caller";

/**
 * A view of the user's model whose own retries are off, for the picker's calls only. The picker owns
 * retrying (NOTES: stacked retries drew 293 provider 429s); `maxRetries: 0` per call is enough for
 * clients that pass it to their caller (ChatOpenAI), but others (ChatGoogleGenerativeAI) ignore it.
 *
 * The view inherits everything from the user's model and differs only in `caller`, which forwards
 * to the model's own `AsyncCaller` through its public `callWithOptions` with `maxRetries: 0`: the
 * user's object is not changed (its other uses keep their retries), and its concurrency queue
 * still applies.
 */
export function withoutRetries<M extends BaseChatModel>(model: M): M {
  const caller = (model as { caller?: AsyncCaller }).caller;
  if (!caller || typeof caller.callWithOptions !== "function") return model;
  const noRetries = Object.create(caller, {
    call: {
      value: (fn: (...a: unknown[]) => Promise<unknown>, ...args: unknown[]) =>
        caller.callWithOptions({ maxRetries: 0 }, fn, ...args),
    },
    callWithOptions: {
      value: (
        options: Parameters<AsyncCaller["callWithOptions"]>[0],
        fn: (...a: unknown[]) => Promise<unknown>,
        ...args: unknown[]
      ) => caller.callWithOptions({ ...options, maxRetries: 0 }, fn, ...args),
    },
  }) as AsyncCaller;
  return Object.create(model, { caller: { value: noRetries, writable: true } }) as M;
}

/**
 * Whether `value` is a LangChain chat model. Duck-typed rather than `instanceof BaseChatModel`, which
 * fails when the user's provider package resolved its own copy of `@langchain/core`.
 */
export function isChatModel(value: unknown): value is BaseChatModel {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Partial<Record<"_generate" | "invoke" | "_llmType" | "_modelType", unknown>>;
  return (
    typeof m._generate === "function" &&
    typeof m.invoke === "function" &&
    typeof m._llmType === "function" &&
    typeof m._modelType === "function" &&
    (m._modelType as () => string).call(value) === "base_chat_model"
  );
}
