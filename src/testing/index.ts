/**
 * Test utilities: a virtual clock and a local OpenAI + Gemini API simulator that the real
 * LangChain clients talk to. Import from `langchain-autopicker/testing`.
 */
export {
  type FakeLangfuseServer,
  type FakeLangfuseServerOptions,
  type FakeObservation,
  type FakeRequest,
  startFakeLangfuseServer,
} from "./fakeLangfuseServer";
export type { SimFault } from "./faults";
export {
  defaultResponder,
  type SimMessage,
  type SimProvider,
  type SimReply,
  type SimRequest,
  type SimResponder,
  type SimTool,
  type SimToolCall,
  type SimToolChoice,
} from "./responder";
export { type JsonSchema, sampleFromSchema } from "./schemaSample";
export {
  type EnqueueFaultOptions,
  ProviderSimulator,
  type ProviderSimulatorOptions,
  type SimModelConfig,
  type SimStats,
  type TpmCounting,
} from "./simulator";
export type { SimWindow, SimWindowUnit } from "./slidingWindow";
// How the simulator bills a request's prompt (o200k, OpenAI's chat framing): for tests that assert billing.
export { type ChatTokenMessage, countChatTokens } from "./tokens";
export { VirtualClock, type VirtualClockOptions } from "./virtualClock";
