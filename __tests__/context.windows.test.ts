import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import {
  bareModelId,
  catalogContextWindow,
  resolveContextWindow,
  resolveMaxOutputTokens,
} from "../src/context";
import { AutoPickerConfigError } from "../src/errors";

// Real provider classes with fake keys: constructing them sends nothing.
const openai = (model: string, fields: Record<string, unknown> = {}) =>
  new ChatOpenAI({ model, apiKey: "sk-test-not-a-key", ...fields });
const gemini = (model: string, fields: Record<string, unknown> = {}) =>
  new ChatGoogleGenerativeAI({ model, apiKey: "test-not-a-key", ...fields });

describe("resolveContextWindow", () => {
  test("an override wins over everything and must be positive", () => {
    expect(resolveContextWindow(openai("gpt-4o-mini"), "openai/gpt-4o-mini", 50_000)).toBe(50_000);
    expect(() => resolveContextWindow(openai("gpt-4o-mini"), "x", 0)).toThrow(AutoPickerConfigError);
    expect(() => resolveContextWindow(openai("gpt-4o-mini"), "x", Number.NaN)).toThrow(AutoPickerConfigError);
  });

  test("the model's own profile comes next", () => {
    expect(resolveContextWindow(openai("gpt-4o-mini"), "openai/gpt-4o-mini")).toBe(128_000);
    expect(resolveContextWindow(openai("gpt-4.1"), "openai/gpt-4.1")).toBe(1_047_576);
    expect(resolveContextWindow(gemini("gemini-2.5-flash"), "gemini/gemini-2.5-flash")).toBe(1_048_576);
    // Profile and catalog disagree here (1.5 Pro shipped with 1M, later 2M): the profile wins.
    expect(catalogContextWindow("gemini-1.5-pro")).toBe(2_097_152);
    expect(resolveContextWindow(gemini("gemini-1.5-pro"), "gemini/gemini-1.5-pro")).toBe(1_000_000);
  });

  test("the catalog covers what the profile does not know: dated snapshots and other providers", () => {
    const snapshot = openai("gpt-4o-mini-2024-07-18");
    expect(snapshot.profile.maxInputTokens).toBeUndefined(); // precondition: the profile is empty
    expect(resolveContextWindow(snapshot, "openai/gpt-4o-mini-2024-07-18")).toBe(128_000);
    expect(resolveContextWindow(openai("gpt-4.1-mini-2025-04-14"), "openai/gpt-4.1-mini-2025-04-14")).toBe(
      1_047_576,
    );
    expect(resolveContextWindow(openai("o4-mini-2025-04-16"), "o4-mini-2025-04-16")).toBe(200_000);
    expect(resolveContextWindow(gemini("gemini-2.0-flash-001"), "google/gemini-2.0-flash-001")).toBe(
      1_048_576,
    );
    // An OpenAI-compatible client pointed at Groq / Together.
    expect(resolveContextWindow(openai("llama-3.3-70b-versatile"), "groq/llama-3.3-70b-versatile")).toBe(
      131_072,
    );
    expect(
      resolveContextWindow(openai("meta-llama/Llama-3.3-70B-Instruct-Turbo"), "together/llama-3.3-70b"),
    ).toBe(131_072);
    expect(resolveContextWindow(openai("mixtral-8x7b-32768"), "groq/mixtral")).toBe(32_768);
    expect(resolveContextWindow(openai("llama3-8b-8192"), "groq/llama3-8b")).toBe(8_192);
  });

  test("an alias entry name falls back to the instance's own model id", () => {
    expect(resolveContextWindow(openai("gpt-4o-2024-08-06"), "primary")).toBe(128_000);
    expect(resolveContextWindow(openai("claude-sonnet-4-5"), "cheap")).toBe(200_000);
  });

  test("unknown models resolve to undefined", () => {
    expect(resolveContextWindow(openai("my-finetune-xyz"), "custom/my-finetune-xyz")).toBeUndefined();
    expect(
      resolveContextWindow(new FakeListChatModel({ responses: ["x"] }) as BaseChatModel, "fake"),
    ).toBeUndefined();
  });

  test.each([
    ["gpt-4o", 128_000],
    ["chatgpt-4o-latest", 128_000],
    ["gpt-4-turbo-2024-04-09", 128_000],
    ["gpt-4-0613", 8_192],
    ["gpt-3.5-turbo-0125", 16_385],
    ["o3-2025-04-16", 200_000],
    ["o1-mini", 128_000],
    ["gpt-5-mini-2025-08-07", 400_000],
    ["gemini-2.5-flash-lite-preview-06-17", 1_048_576],
    ["models/gemini-2.5-pro", 1_048_576],
    ["anthropic.claude-3-5-sonnet-20240620-v1:0", 200_000],
    ["claude-3-5-haiku-latest", 200_000],
    ["ft:gpt-4o-mini-2024-07-18:acme::abc123", 128_000],
    ["accounts/fireworks/models/llama-v3p1-70b-instruct", 131_072],
  ])("catalog: %s -> %i", (id, window) => {
    expect(catalogContextWindow(id)).toBe(window);
  });

  test("bareModelId strips provider prefixes and fine-tune wrappers", () => {
    expect(bareModelId("openai/gpt-4o-mini")).toBe("gpt-4o-mini");
    expect(bareModelId("gemini/gemini-2.5-flash")).toBe("gemini-2.5-flash");
    expect(bareModelId("openrouter/anthropic/Claude-3.5-Sonnet")).toBe("claude-3.5-sonnet");
    expect(bareModelId("ft:gpt-4o-mini-2024-07-18:org::id")).toBe("gpt-4o-mini-2024-07-18");
  });
});

describe("resolveMaxOutputTokens", () => {
  test("reads the limit from the model instance", () => {
    expect(resolveMaxOutputTokens(openai("gpt-4o", { maxTokens: 500 }))).toBe(500);
    expect(resolveMaxOutputTokens(openai("o3", { maxCompletionTokens: 900 }))).toBe(900);
    expect(resolveMaxOutputTokens(gemini("gemini-2.5-flash", { maxOutputTokens: 700 }))).toBe(700);
    expect(resolveMaxOutputTokens(openai("gpt-4o", { modelKwargs: { max_completion_tokens: 321 } }))).toBe(
      321,
    );
  });

  test("call options win over the instance", () => {
    const model = openai("gpt-4o", { maxTokens: 500 });
    expect(resolveMaxOutputTokens(model, { maxTokens: 64 })).toBe(64);
    expect(resolveMaxOutputTokens(model, { max_completion_tokens: 128 })).toBe(128);
    expect(
      resolveMaxOutputTokens(gemini("gemini-2.5-flash", { maxOutputTokens: 700 }), { maxOutputTokens: 50 }),
    ).toBe(50);
  });

  test("unset, -1 and nonsense mean no limit", () => {
    expect(resolveMaxOutputTokens(openai("gpt-4o"))).toBeUndefined();
    expect(resolveMaxOutputTokens(openai("gpt-4o", { maxTokens: -1 }))).toBeUndefined();
    expect(resolveMaxOutputTokens(gemini("gemini-2.5-flash"), { maxTokens: "lots" })).toBeUndefined();
  });
});
