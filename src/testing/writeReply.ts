import { type ServerResponse, STATUS_CODES } from "node:http";
import type { HttpReply } from "./protocol";

/** Reason phrases node does not know; Gemini's SDK prints the phrase in its error message. */
const EXTRA_STATUS_TEXT: Record<number, string> = { 529: "Site is overloaded" };

/**
 * Writes a reply. A `hang` reply writes nothing: the caller keeps the response open until the
 * client goes away or the simulator stops.
 */
export function writeReply(res: ServerResponse, reply: HttpReply): void {
  if (res.destroyed || res.writableEnded) return;
  switch (reply.type) {
    case "json":
    case "text": {
      const body = reply.type === "json" ? JSON.stringify(reply.body) : reply.body;
      res.writeHead(reply.status, statusText(reply.status), {
        "content-type": reply.type === "json" ? "application/json; charset=utf-8" : "text/plain",
        ...reply.headers,
        "content-length": String(Buffer.byteLength(body)),
      });
      res.end(body);
      return;
    }
    case "sse": {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        ...reply.headers,
      });
      const frames = reply.cutAfter === undefined ? reply.frames : reply.frames.slice(0, reply.cutAfter);
      if (reply.cutAfter === undefined) {
        for (const frame of frames) res.write(frame);
        res.end();
        return;
      }
      writeThenDestroy(res, frames.join(""));
      return;
    }
    case "cut":
      res.writeHead(reply.status, statusText(reply.status), reply.headers);
      writeThenDestroy(res, reply.partialBody);
      return;
    case "hang":
      return;
  }
}

/** Flushes `data`, then drops the connection mid-response, as a broken proxy or network would. */
function writeThenDestroy(res: ServerResponse, data: string): void {
  res.write(data, () => {
    res.socket?.destroy();
    res.destroy();
  });
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? EXTRA_STATUS_TEXT[status] ?? "Unknown";
}
