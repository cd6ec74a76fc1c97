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
export { formatGoDuration } from "./goDuration";
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
export type { WindowSpec, WindowUnit } from "./slidingWindow";
export { type ChatTokenMessage, countChatTokens, countTextTokens, countToolTokens } from "./tokens";
export { VirtualClock, type VirtualClockOptions } from "./virtualClock";
