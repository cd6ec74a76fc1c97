import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import fc from "fast-check";
import { TokenEstimator, truncateToFit } from "../src/context";

// An additive stand-in for the estimator: fast enough for thousands of generated conversations.
function simpleCount(messages: BaseMessage[]): number {
  let total = 3;
  for (const m of messages) {
    total += 4 + (typeof m.content === "string" ? m.content.length : 0);
    for (const call of (m as AIMessage).tool_calls ?? []) total += 3 + JSON.stringify(call.args).length;
  }
  return total;
}

const words = fc.string({ unit: fc.constantFrom("a", "b", " ", "的"), maxLength: 120 });
let ids = 0;
// A turn: a human message, then zero or more tool rounds (AI call + one result per call), then an answer.
const turn = fc
  .record({
    question: words,
    rounds: fc.array(fc.array(fc.record({ args: words, result: words }), { minLength: 1, maxLength: 3 }), {
      maxLength: 3,
    }),
    answer: fc.option(words, { nil: undefined }),
  })
  .map(({ question, rounds, answer }) => {
    const out: BaseMessage[] = [new HumanMessage(question)];
    for (const calls of rounds) {
      const withIds = calls.map((c) => ({ ...c, id: `call_${ids++}` }));
      out.push(
        new AIMessage({
          content: "",
          tool_calls: withIds.map((c) => ({
            id: c.id,
            name: "search",
            args: { q: c.args },
            type: "tool_call" as const,
          })),
        }),
      );
      for (const c of withIds) out.push(new ToolMessage({ content: c.result, tool_call_id: c.id }));
    }
    if (answer !== undefined) out.push(new AIMessage(answer));
    return out;
  });
const conversation = fc
  .tuple(fc.option(words, { nil: undefined }), fc.array(turn, { minLength: 1, maxLength: 8 }))
  .map(([system, turns]) => [...(system === undefined ? [] : [new SystemMessage(system)]), ...turns.flat()]);

/** Start index of the last unit: the AI call owning a trailing run of ToolMessages, or the last message. */
function lastUnitStart(messages: BaseMessage[]): number {
  let i = messages.length - 1;
  while (i > 0 && messages[i]!.type === "tool") i--;
  return i;
}

function checkInvariants(input: BaseMessage[], result: BaseMessage[], max: number): void {
  const kept = new Set(result);
  // Order preserved: the result is a subsequence of the input.
  expect(input.filter((m) => kept.has(m))).toEqual(result);
  // System messages always kept.
  for (const m of input) if (m.type === "system") expect(kept.has(m)).toBe(true);
  // Tool pairing: no orphan result, no call without all its results.
  const seenCalls = new Set<string>();
  for (const m of result) {
    if (m.type === "ai") for (const c of (m as AIMessage).tool_calls ?? []) seenCalls.add(c.id!);
    if (m.type === "tool") expect(seenCalls.has((m as ToolMessage).tool_call_id)).toBe(true);
  }
  const resultIds = new Set(
    result.filter((m) => m.type === "tool").map((m) => (m as ToolMessage).tool_call_id),
  );
  for (const id of seenCalls) expect(resultIds.has(id)).toBe(true);
  // After the system prompt, a user turn comes first.
  const firstNonSystem = result.find((m) => m.type !== "system");
  if (firstNonSystem) expect(firstNonSystem.type).toBe("human");

  const systems = input.filter((m) => m.type === "system");
  const firstHuman = input.find((m) => m.type === "human")!;
  if (simpleCount(systems) <= max) expect(simpleCount(result)).toBeLessThanOrEqual(max);
  if (simpleCount([...systems, firstHuman]) <= max) expect(kept.has(firstHuman)).toBe(true);
  // The most recent turn survives whenever it fits next to the pinned messages.
  const last = input.slice(lastUnitStart(input));
  if (simpleCount([...systems, firstHuman, ...last]) <= max) {
    for (const m of last) expect(kept.has(m)).toBe(true);
  }
}

describe("truncateToFit", () => {
  test("property: pairing, pinning, ordering and fit hold for random conversations and budgets", () => {
    fc.assert(
      fc.property(conversation, fc.double({ min: 0, max: 1.1, noNaN: true }), (input, fraction) => {
        const max = Math.floor(simpleCount(input) * fraction);
        const { messages, dropped, droppedTokens } = truncateToFit(input, max, simpleCount);
        checkInvariants(input, messages, max);
        expect(dropped).toBe(input.length - messages.length);
        if (simpleCount(input) <= max) expect(messages).toEqual(input);
        // droppedTokens is the additive cost of what went missing.
        expect(droppedTokens).toBe(simpleCount(input) - simpleCount(messages));
      }),
      { numRuns: 500 },
    );
  });

  test("keeps system + first question + the latest complete tool round, drops the middle", () => {
    const system = new SystemMessage("You are an agent.");
    const task = new HumanMessage("Find the cheapest flight to Lisbon.");
    const middle = [
      new AIMessage({ content: "", tool_calls: [{ id: "a", name: "search", args: { q: "x".repeat(400) } }] }),
      new ToolMessage({ content: "y".repeat(400), tool_call_id: "a" }),
    ];
    const lastCall = new AIMessage({
      content: "",
      tool_calls: [
        { id: "b", name: "search", args: { q: "TAP" } },
        { id: "c", name: "search", args: { q: "Ryanair" } },
      ],
    });
    const results = [
      new ToolMessage({ content: "TAP 120 EUR", tool_call_id: "b" }),
      new ToolMessage({ content: "Ryanair 60 EUR", tool_call_id: "c" }),
    ];
    const input = [system, task, ...middle, lastCall, ...results];
    const { messages, dropped } = truncateToFit(input, simpleCount(input) - 300, simpleCount);
    expect(messages).toEqual([system, task, lastCall, ...results]);
    expect(dropped).toBe(2);
  });

  test("when the first question is too big, the tail starts at a later human message", () => {
    const system = new SystemMessage("sys");
    const input = [
      system,
      new HumanMessage("q".repeat(1000)),
      new AIMessage("answer one"),
      new AIMessage({ content: "", tool_calls: [{ id: "t", name: "f", args: {} }] }),
      new ToolMessage({ content: "r", tool_call_id: "t" }),
      new HumanMessage("second question"),
      new AIMessage("second answer"),
    ];
    const { messages } = truncateToFit(input, 200, simpleCount);
    expect(messages).toEqual([system, input[5], input[6]]);
  });

  test("best effort when even the system prompt does not fit: system messages only", () => {
    const input = [new SystemMessage("s".repeat(500)), new HumanMessage("hi"), new AIMessage("hello")];
    const { messages, dropped } = truncateToFit(input, 100, simpleCount);
    expect(messages).toEqual([input[0]]);
    expect(dropped).toBe(2);
  });

  test("orphan ToolMessages in the input are dropped when truncating", () => {
    const input = [
      new HumanMessage("first"),
      new ToolMessage({ content: "orphan", tool_call_id: "nobody" }),
      new AIMessage("x".repeat(300)),
      new HumanMessage("last"),
    ];
    const { messages } = truncateToFit(input, simpleCount(input) - 1, simpleCount);
    expect(messages.some((m) => m.type === "tool")).toBe(false);
  });

  test("works with the real estimator as the counter", () => {
    const estimator = new TokenEstimator();
    const count = (msgs: BaseMessage[]) => estimator.estimate(msgs, { model: "gpt-4o-mini" });
    const input: BaseMessage[] = [new SystemMessage("Be brief."), new HumanMessage("Summarise the logs.")];
    for (let i = 0; i < 30; i++) {
      input.push(
        new AIMessage({ content: "", tool_calls: [{ id: `c${i}`, name: "read_log", args: { page: i } }] }),
      );
      input.push(new ToolMessage({ content: `log line ${i} `.repeat(40), tool_call_id: `c${i}` }));
    }
    const { messages, droppedTokens } = truncateToFit(input, 1500, count);
    expect(count(messages)).toBeLessThanOrEqual(1500);
    expect(messages.slice(0, 2)).toEqual(input.slice(0, 2));
    expect(messages.at(-1)).toBe(input.at(-1));
    expect(droppedTokens).toBeGreaterThan(count(input) - 1500 - 200);
  });
});
