/** Small network helpers shared by the tests. */
import { createConnection, createServer } from "node:net";

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends one inline command over a raw socket; resolves with the reply ("" if none). */
export function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" }, () => socket.write(`${command}\r\n`));
    let reply = "";
    socket.on("data", (d) => {
      reply += d.toString();
      socket.end();
    });
    socket.on("error", () => resolve(""));
    socket.on("close", () => resolve(reply));
  });
}
