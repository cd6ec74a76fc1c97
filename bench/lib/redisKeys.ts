import type { Redis } from "ioredis";

/** Deletes every key under `prefix` (SCAN + UNLINK: never blocks the server, touches nothing else). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
}
