import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { AutoPickerConfigError } from "../errors";

/** An observation as Langfuse's public API (`GET /api/public/v2/observations`) returns it (the fields we use). */
export interface FakeObservation {
  id: string;
  traceId: string | null;
  startTime: string;
  endTime: string | null;
  projectId: string;
  parentObservationId: string | null;
  type: string;
  name?: string | null;
  level?: string;
  statusMessage?: string | null;
  metadata?: Record<string, string>;
  model?: string | null;
  usageDetails?: Record<string, number>;
  costDetails?: Record<string, number>;
  totalCost?: number | null;
}

/** A request the fake server received, for assertions. */
export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  contentEncoding: string | undefined;
}

/** Options of {@link startFakeLangfuseServer}. */
export interface FakeLangfuseServerOptions {
  /**
   * How trace exports (`POST /api/public/otel/v1/traces`) are answered: `"accept"` (200, decoded
   * into {@link FakeLangfuseServer.observations}), `"hang"` (read, never answered: Langfuse stuck),
   * `"fail"` (503: Langfuse down). Default `"accept"`.
   */
  ingestion?: "accept" | "hang" | "fail";
}

/** A running {@link startFakeLangfuseServer}. */
export interface FakeLangfuseServer {
  /** Use as `baseUrl` / `LANGFUSE_BASE_URL`. */
  readonly baseUrl: string;
  /** Everything ingested over OTLP, plus what {@link addObservations} added. */
  readonly observations: FakeObservation[];
  readonly requests: FakeRequest[];
  addObservations(observations: FakeObservation[]): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for Langfuse, for tests and examples: it accepts OTLP/HTTP JSON traces on
 * `POST /api/public/otel/v1/traces` (gzip or plain), decodes them into observations the way Langfuse
 * maps `langfuse.observation.*` attributes, and serves them on `GET /api/public/v2/observations`
 * (filters `type`, `name`, `traceId`, `fromStartTime`, `toStartTime`; cursor paging with `limit`;
 * the `fields` parameter is accepted and ignored: every field is returned). Point
 * `setupLangfuseTracing({ baseUrl })` and `new LangfuseClient({ baseUrl })` at {@link FakeLangfuseServer.baseUrl}.
 *
 * @example
 * ```ts
 * const langfuse = await startFakeLangfuseServer();
 * const tracing = setupLangfuseTracing({ publicKey: "pk-lf-local", secretKey: "sk-lf-local", baseUrl: langfuse.baseUrl });
 * // ... run, then: await tracing.shutdown(); langfuse.observations
 * ```
 */
export async function startFakeLangfuseServer(
  options: FakeLangfuseServerOptions = {},
): Promise<FakeLangfuseServer> {
  const ingestion = options.ingestion ?? "accept";
  if (!["accept", "hang", "fail"].includes(ingestion)) {
    throw new AutoPickerConfigError(
      `startFakeLangfuseServer: ingestion must be "accept", "hang" or "fail", got ${JSON.stringify(ingestion)}.`,
    );
  }
  const observations: FakeObservation[] = [];
  const requests: FakeRequest[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err) => reply(res, 500, { message: String(err) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      contentEncoding: req.headers["content-encoding"] as string | undefined,
    });
    if (req.method === "POST" && url.pathname === "/api/public/otel/v1/traces") {
      const raw = await body(req);
      if (ingestion === "hang") return; // read, never answered; close() drops the connection
      if (ingestion === "fail") {
        reply(res, 503, { message: "fake Langfuse: ingestion unavailable" });
        return;
      }
      const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
      observations.push(...decodeOtlpJson(JSON.parse(text) as OtlpRequest));
      reply(res, 200, {});
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/public/v2/observations") {
      reply(res, 200, page(observations, url.searchParams));
      return;
    }
    reply(res, 404, { message: `not found: ${url.pathname}` });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    observations,
    requests,
    addObservations: (more) => {
      observations.push(...more);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function page(all: FakeObservation[], q: URLSearchParams) {
  const from = q.get("fromStartTime");
  const to = q.get("toStartTime");
  const matching = all
    .filter(
      (o) =>
        (!q.get("type") || o.type === q.get("type")) &&
        (!q.get("name") || o.name === q.get("name")) &&
        (!q.get("traceId") || o.traceId === q.get("traceId")) &&
        (!from || o.startTime >= from) &&
        (!to || o.startTime < to),
    )
    .sort((a, b) => a.startTime.localeCompare(b.startTime));
  const limit = Math.min(1000, Number(q.get("limit") ?? 50));
  const offset = q.get("cursor")
    ? Number(Buffer.from(q.get("cursor") as string, "base64").toString("utf8"))
    : 0;
  const data = matching.slice(offset, offset + limit);
  const next =
    offset + limit < matching.length ? Buffer.from(String(offset + limit)).toString("base64") : undefined;
  return { data, meta: next ? { cursor: next } : {} };
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// --- OTLP/HTTP JSON (ExportTraceServiceRequest), only the parts Langfuse reads ---

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

/** Decodes an OTLP JSON export into Langfuse-shaped observations. */
function decodeOtlpJson(request: OtlpRequest): FakeObservation[] {
  const out: FakeObservation[] = [];
  for (const rs of request.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) out.push(toObservation(span));
  return out;
}

const META = "langfuse.observation.metadata.";

function toObservation(span: OtlpSpan): FakeObservation {
  const attrs: Record<string, string | number | boolean> = {};
  for (const a of span.attributes ?? []) {
    const v = a.value;
    const value =
      v.stringValue ??
      (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
      v.doubleValue ??
      v.boolValue;
    if (value !== undefined) attrs[a.key] = value;
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs))
    if (k.startsWith(META)) metadata[k.slice(META.length)] = String(v);
  const json = (key: string) =>
    typeof attrs[key] === "string" ? (JSON.parse(attrs[key] as string) as Record<string, number>) : undefined;
  const costDetails = json("langfuse.observation.cost_details");
  const usageDetails = json("langfuse.observation.usage_details");
  const model = attrs["langfuse.observation.model.name"];
  return {
    id: span.spanId,
    traceId: span.traceId,
    startTime: nanosToIso(span.startTimeUnixNano),
    endTime: nanosToIso(span.endTimeUnixNano),
    projectId: "fake-project",
    parentObservationId: span.parentSpanId || null,
    type: String(attrs["langfuse.observation.type"] ?? "span").toUpperCase(),
    name: span.name,
    level: String(attrs["langfuse.observation.level"] ?? "DEFAULT"),
    statusMessage: (attrs["langfuse.observation.status_message"] as string | undefined) ?? null,
    metadata,
    model: typeof model === "string" ? model : null,
    ...(usageDetails ? { usageDetails } : {}),
    ...(costDetails ? { costDetails, totalCost: costDetails.total ?? null } : {}),
  };
}

function nanosToIso(nanos: string | number): string {
  return new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();
}
