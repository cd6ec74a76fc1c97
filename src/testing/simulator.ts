import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Clock, systemClock } from "../clock";
import { AutoPickerConfigError } from "../errors";
import { buildAnswer } from "./answer";
import { FaultQueue, type SimFault } from "./faults";
import { geminiProtocol } from "./geminiProtocol";
import { ModelLimiter } from "./modelLimiter";
import { openaiProtocol } from "./openaiProtocol";
import { PromptCache } from "./promptCache";
import type { Answer, HttpReply, ParsedCall, ProviderProtocol, ReplyContext } from "./protocol";
import { defaultResponder, type SimProvider, type SimRequest, type SimResponder } from "./responder";
import type { SimWindow } from "./slidingWindow";
import { countChatTokens, countToolTokens } from "./tokens";
import { writeReply } from "./writeReply";

/** One simulated model. Limits left out are not enforced. */
export interface SimModelConfig {
  provider: SimProvider;
  requestsPerMinute?: number;
  /**
   * OpenAI: prompt tokens + `max_tokens` (see {@link ProviderSimulatorOptions.tpmCounting}) booked
   * at arrival. Gemini: prompt tokens only (its quota counts input tokens).
   */
  tokensPerMinute?: number;
  requestsPerDay?: number;
  /** Extra windows, e.g. `{ unit: "requests", limit: 1000, intervalMs: 1000 }` for sub-minute enforcement. */
  windows?: SimWindow[];
  /** Input tokens accepted. Default 128000 (OpenAI) or 1048576 (Gemini). */
  contextWindow?: number;
  /**
   * Real milliseconds (not clock time) before each answer starts. Default 0. A function picks it
   * per reply (a heavy-tailed mix, fast 429s): it gets the request and the reply's HTTP status.
   */
  latencyMs?: number | ((request: SimRequest, status: number) => number);
  /** Report repeated prompt prefixes as cached tokens (see `PromptCache`). Default false. */
  promptCaching?: boolean;
  /** OpenAI only: send x-ratelimit-* headers. Default true. */
  sendRateLimitHeaders?: boolean;
}

/** How OpenAI's TPM reservation is computed at arrival. */
export type TpmCounting =
  /** Prompt tokens + `max_tokens` (the default; the stricter reading). */
  | "prompt_plus_max_tokens"
  /** `max(prompt tokens, max_tokens)`, the wording of OpenAI's rate-limit guide. */
  | "max_of_prompt_and_max_tokens";

export interface ProviderSimulatorOptions {
  /** Stamps arrivals and drives every rate-limit window. Default: the system clock. */
  clock?: Clock;
  models: Record<string, SimModelConfig>;
  /** Decides answers. Default: {@link defaultResponder}. */
  responder?: SimResponder;
  /**
   * Count rejected (429) requests against request windows, as real OpenAI does. Default false, so a
   * test of "the 61st call waits" is not disturbed by its own rejected probe.
   */
  count429s?: boolean;
  /**
   * OpenAI TPM reservation. When `max_tokens` is absent only the prompt is counted: OpenAI then
   * reserves an undisclosed default, and counting the prompt alone is the lenient lower bound.
   */
  tpmCounting?: TpmCounting;
}

/** Counters of one model (or all models summed). */
export interface SimStats {
  /** Requests that reached a configured model (every outcome). */
  requests: number;
  /** Successful answers (including scripted `no_usage` answers, which are whole answers). */
  served: number;
  /** 429s sent, by the rate limiter or by scripted quota faults. */
  rateLimited: number;
  /** Scripted faults served. */
  faults: number;
  /** Clock time of every request that reached the model, in arrival order. */
  arrivals: number[];
  /** Prompt tokens billed on successful answers. */
  inputTokens: number;
  /** Output tokens billed on successful answers. */
  outputTokens: number;
}

/** Options of {@link ProviderSimulator.enqueueFault}. */
export interface EnqueueFaultOptions {
  /** Serve this fault to the next `times` requests. Default 1. */
  times?: number;
}

interface ModelState {
  config: SimModelConfig;
  contextWindow: number;
  limiter: ModelLimiter;
  faults: FaultQueue;
  cache: PromptCache;
  stats: SimStats;
}

const DEFAULT_CONTEXT_WINDOW: Record<SimProvider, number> = { openai: 128_000, gemini: 1_048_576 };
const QUOTA_FAULTS = new Set<SimFault["kind"]>(["rate_limit", "daily_quota", "insufficient_quota"]);
const GEMINI_PATH = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A local OpenAI + Gemini API for tests, demos and benchmarks. The real `ChatOpenAI`
 * (`configuration.baseURL = sim.openaiBaseURL`) and `ChatGoogleGenerativeAI`
 * (`baseUrl = sim.geminiBaseUrl`) talk to it unchanged. It enforces each model's limits over
 * sliding windows of `clock` time, answers 429s with the provider's exact bodies and retry hints,
 * checks context windows, bills tokens with o200k_base, streams, calls tools, and serves scripted
 * faults. Listens on 127.0.0.1 at a random port; the server handle is unref'd, and `stop()` drops
 * every connection (keep-alive included) at once.
 */
export class ProviderSimulator {
  private readonly clock: Clock;
  private readonly responder: SimResponder;
  private readonly tpmCounting: TpmCounting;
  private readonly models = new Map<string, ModelState>();
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private server: Server | undefined;
  private port: number | undefined;
  private seq = 0;

  constructor(options: ProviderSimulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.responder = options.responder ?? defaultResponder;
    this.tpmCounting = options.tpmCounting ?? "prompt_plus_max_tokens";
    for (const [name, config] of Object.entries(options.models)) {
      const windows = windowsOf(name, config);
      this.models.set(name, {
        config,
        contextWindow: config.contextWindow ?? DEFAULT_CONTEXT_WINDOW[config.provider],
        limiter: new ModelLimiter(windows, options.count429s ?? false),
        faults: new FaultQueue(),
        cache: new PromptCache(),
        stats: emptyStats(),
      });
    }
  }

  /** `http://127.0.0.1:PORT/v1`, for `ChatOpenAI({ configuration: { baseURL } })`. */
  get openaiBaseURL(): string {
    return `http://127.0.0.1:${this.requirePort()}/v1`;
  }

  /** `http://127.0.0.1:PORT`, for `ChatGoogleGenerativeAI({ baseUrl })` (the SDK adds `/v1beta/models/...`). */
  get geminiBaseUrl(): string {
    return `http://127.0.0.1:${this.requirePort()}`;
  }

  /** Starts listening on a random loopback port. */
  async start(): Promise<void> {
    if (this.server)
      throw new AutoPickerConfigError(
        "ProviderSimulator is already started: stop() it first, or make another.",
      );
    const server = createServer((req, res) => this.receive(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.unref();
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Queues a fault for `model`; queued faults are served first, in order, each `times` times. */
  enqueueFault(model: string, fault: SimFault, options: EnqueueFaultOptions = {}): void {
    this.requireModel(model).faults.push(fault, options.times ?? 1);
  }

  /** Counters of one model, or of all models summed (arrivals merged in time order). */
  stats(model?: string): SimStats {
    if (model !== undefined) return copyStats(this.requireModel(model).stats);
    const total = emptyStats();
    for (const state of this.models.values()) {
      const s = state.stats;
      total.requests += s.requests;
      total.served += s.served;
      total.rateLimited += s.rateLimited;
      total.faults += s.faults;
      total.inputTokens += s.inputTokens;
      total.outputTokens += s.outputTokens;
      total.arrivals.push(...s.arrivals);
    }
    total.arrivals.sort((a, b) => a - b);
    return total;
  }

  /** Forgets bookings, queued faults, cached prompts and counters. Connections stay open. */
  reset(): void {
    for (const state of this.models.values()) {
      state.limiter.clear();
      state.faults.clear();
      state.cache.clear();
      state.stats = emptyStats();
    }
    this.seq = 0;
  }

  /** Closes the server and every connection, including hanging and keep-alive ones. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.port = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        this.dispatch(req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        // A bug in a responder must not hang the client: answer like a provider outage.
        writeReply(res, {
          type: "json",
          status: 500,
          headers: {},
          body: { error: { message: `Simulator error: ${String(error)}`, type: "server_error", code: null } },
        });
      }
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const body = parseJson(raw);
    let provider: SimProvider;
    let model: string;
    let stream: boolean;
    const gemini = GEMINI_PATH.exec(path);
    if (req.method === "POST" && path === "/v1/chat/completions") {
      provider = "openai";
      model = isRecord(body) && typeof body.model === "string" ? body.model : "";
      stream = isRecord(body) && body.stream === true;
    } else if (req.method === "POST" && gemini) {
      provider = "gemini";
      model = decodeURIComponent(gemini[2]!);
      stream = gemini[3] === "streamGenerateContent";
    } else {
      writeReply(res, { type: "text", status: 404, headers: {}, body: "Not Found" });
      return;
    }
    const protocol = protocolFor(provider);
    const state = this.models.get(model);
    if (!state || state.config.provider !== provider) {
      writeReply(res, protocol.notFound(model));
      return;
    }
    const parsed = protocol.parse(body, model, stream, req.headers);
    if (isReply(parsed)) {
      writeReply(res, parsed);
      return;
    }
    this.handleCall(state, protocol, parsed, res);
  }

  private handleCall(
    state: ModelState,
    protocol: ProviderProtocol,
    parsed: ParsedCall,
    res: ServerResponse,
  ): void {
    const now = this.clock.now();
    const seq = ++this.seq;
    const { config, stats } = state;
    stats.requests++;
    stats.arrivals.push(now);

    const request: SimRequest = {
      ...parsed.request,
      promptTokens: countChatTokens(parsed.request.messages) + countToolTokens(parsed.request.tools),
    };
    const ctx = (): ReplyContext => ({
      model: request.model,
      now,
      seq,
      stream: request.stream,
      includeUsage: parsed.includeUsage,
      apiKey: parsed.apiKey,
      rateLimits: {
        requests: state.limiter.snapshot("requests", now),
        tokens: state.limiter.snapshot("tokens", now),
      },
      sendRateLimitHeaders: config.provider === "openai" && (config.sendRateLimitHeaders ?? true),
      ...(config.requestsPerDay !== undefined ? { requestsPerDay: config.requestsPerDay } : {}),
      contextWindow: state.contextWindow,
      promptTokens: request.promptTokens,
      ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
    });

    const fault = state.faults.take();
    if (fault) {
      stats.faults++;
      if (QUOTA_FAULTS.has(fault.kind)) stats.rateLimited++;
      let built: Answer | undefined;
      const answer = () =>
        (built ??= buildAnswer(this.responder(request), request, 0, (i) => `call_sim${seq}_${i}`));
      const reply = protocol.fault(fault, ctx(), answer);
      if (fault.kind === "no_usage" && built) {
        // A whole answer went out, only its usage report is missing: the host billed it.
        stats.served++;
        stats.inputTokens += built.promptTokens;
        stats.outputTokens += built.outputTokens;
      }
      this.send(res, reply, config, request);
      return;
    }

    // Invalid requests are refused before the rate limiter, so they never consume quota.
    if (exceedsContext(request, state.contextWindow, config.provider)) {
      this.send(res, protocol.contextTooLong(ctx()), config, request);
      return;
    }

    const admission = state.limiter.admit(now, this.tokenCost(request, config.provider));
    if (!admission.admitted) {
      stats.rateLimited++;
      this.send(res, protocol.rateLimited(admission, ctx()), config, request);
      return;
    }

    const cached = config.promptCaching
      ? state.cache.lookupAndStore(promptText(request), request.promptTokens)
      : 0;
    const answer = buildAnswer(this.responder(request), request, cached, (i) => `call_sim${seq}_${i}`);
    stats.served++;
    stats.inputTokens += answer.promptTokens;
    stats.outputTokens += answer.outputTokens;
    this.send(res, protocol.success(answer, ctx()), config, request);
  }

  /** Tokens booked in token windows at arrival. */
  private tokenCost(request: SimRequest, provider: SimProvider): number {
    if (provider === "gemini") return request.promptTokens;
    const maxTokens = request.maxTokens ?? 0;
    return this.tpmCounting === "prompt_plus_max_tokens"
      ? request.promptTokens + maxTokens
      : Math.max(request.promptTokens, maxTokens);
  }

  private send(res: ServerResponse, reply: HttpReply, config: SimModelConfig, request: SimRequest): void {
    if (reply.type === "hang") {
      this.hanging.add(res);
      res.on("close", () => this.hanging.delete(res));
      return;
    }
    const ready = reply;
    const status = ready.type === "sse" ? 200 : ready.status;
    const latency =
      typeof config.latencyMs === "function" ? config.latencyMs(request, status) : (config.latencyMs ?? 0);
    if (latency <= 0) {
      writeReply(res, ready);
      return;
    }
    // Real time on purpose: latency models the network, which a virtual clock must not skip.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      writeReply(res, ready);
    }, latency);
    timer.unref();
    this.timers.add(timer);
  }

  private requireModel(model: string): ModelState {
    const state = this.models.get(model);
    if (!state)
      throw new AutoPickerConfigError(
        `Unknown simulated model "${model}": add it to the simulator's models.`,
      );
    return state;
  }

  private requirePort(): number {
    if (this.port === undefined)
      throw new AutoPickerConfigError("ProviderSimulator is not started: await sim.start() first.");
    return this.port;
  }
}

function windowsOf(name: string, config: SimModelConfig): SimWindow[] {
  const windows: SimWindow[] = [];
  if (config.requestsPerMinute !== undefined) {
    windows.push({ unit: "requests", limit: config.requestsPerMinute, intervalMs: 60_000 });
  }
  if (config.tokensPerMinute !== undefined) {
    windows.push({ unit: "tokens", limit: config.tokensPerMinute, intervalMs: 60_000 });
  }
  if (config.requestsPerDay !== undefined) {
    windows.push({ unit: "requests", limit: config.requestsPerDay, intervalMs: 86_400_000 });
  }
  windows.push(...(config.windows ?? []));
  for (const w of windows) {
    if (!Number.isInteger(w.limit) || w.limit < 1 || !(w.intervalMs > 0)) {
      throw new AutoPickerConfigError(
        `Simulated model "${name}": limit must be a positive integer and intervalMs positive (got ${w.limit} per ${w.intervalMs} ms)`,
      );
    }
  }
  return windows;
}

function exceedsContext(request: SimRequest, contextWindow: number, provider: SimProvider): boolean {
  if (request.promptTokens > contextWindow) return true;
  // OpenAI's window holds the prompt and the completion; Gemini limits input and output separately.
  return provider === "openai" && request.promptTokens + (request.maxTokens ?? 0) > contextWindow;
}

/** The text whose prefix the prompt cache compares: tools first, then messages, as providers lay them out. */
function promptText(request: SimRequest): string {
  const tools = request.tools.length > 0 ? JSON.stringify(request.tools) : "";
  return [tools, ...request.messages.map((m) => `${m.role}:${m.name ?? ""}:${m.text}`)].join("\n");
}

function protocolFor(provider: SimProvider): ProviderProtocol {
  return provider === "openai" ? openaiProtocol : geminiProtocol;
}

function isReply(value: ParsedCall | HttpReply): value is HttpReply {
  return "type" in value;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function emptyStats(): SimStats {
  return { requests: 0, served: 0, rateLimited: 0, faults: 0, arrivals: [], inputTokens: 0, outputTokens: 0 };
}

function copyStats(stats: SimStats): SimStats {
  return { ...stats, arrivals: [...stats.arrivals] };
}
