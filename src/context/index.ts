export { countTextTokens, preloadEncoder, utf8Length } from "./encoders";
export {
  IMAGE_TOKENS,
  LOW_DETAIL_IMAGE_TOKENS,
  MEDIA_TOKENS,
  REPLY_PRIMING_TOKENS,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NAME,
  TOKENS_PER_TOOL_CALL,
} from "./messageTokens";
export { bareModelId } from "./modelId";
export {
  type EstimateOptions,
  LEARNING_RATE,
  MAX_CORRECTION,
  MIN_CORRECTION,
  MIN_LEARNABLE_TOKENS,
  TokenEstimator,
  type TokenEstimatorOptions,
} from "./tokenEstimator";
export { type EncodingName, type TokenizerFamily, tokenizerFamily } from "./tokenizerFamily";
export { TOOLS_OVERHEAD_TOKENS } from "./toolTokens";
export { type TruncationResult, truncateToFit } from "./truncate";
export { catalogContextWindow, resolveContextWindow, resolveMaxOutputTokens } from "./windows";
