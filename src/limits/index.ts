/** Rate limiting: know each model's limits, compute the exact wait, book the slot. */
export { catalogLimits, GEMINI_DAILY_RESET_TIME_ZONE, type Tier } from "./catalog";
export { type HeaderSink, rateLimitHeadersFetch, withHeaderSink } from "./headerCapture";
export { type HeaderSource, parseGoDuration, parseRateLimitHeaders } from "./headers";
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions, RETRY_HINT_DIMENSION } from "./memoryStore";
export {
  DEFAULT_PLACE,
  NO_TENANT,
  PRIORITIES,
  type Priority,
  priorityRank,
  type QueueDepth,
  type QueuePlace,
} from "./priority";
export { defaultArrivalMargin, RateLimiter, type RateLimiterOptions } from "./rateLimiter";
export { SendEvidence } from "./sendEvidence";
export type {
  CalendarWindowSpec,
  RateLimitStore,
  SlidingWindowSpec,
  StoreBlockRequest,
  StoreCancelRequest,
  StoreCommitRequest,
  StoreConfirmRequest,
  StoreConfirmResult,
  StoreConstrainRequest,
  StoreConstrainResult,
  StoreMovedBooking,
  StorePlace,
  StoreQueueStatus,
  StoreRecordRequest,
  StoreReleaseRequest,
  StoreReserveRequest,
  StoreReserveResult,
  StoreStampRequest,
  StoreStatus,
  StoreTarget,
  StoreWindowStatus,
  WindowSpec,
} from "./store";
export type {
  DimensionStatus,
  LimiterStatus,
  LimitUnit,
  LimitWindow,
  ModelLimits,
  ProviderRateLimitState,
  ReservationTicket,
  ReserveDecision,
} from "./types";
export { PRIORITY_DIMENSION } from "./types";
