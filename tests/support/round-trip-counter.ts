import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/** A frontend Terminate message ('X', length 4): a client closing its connection waits for nothing. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);
/** The tag of a CommandComplete message ('C', length 11) answering a COMMIT that committed. */
const COMMIT_DONE = Buffer.from([0x43, 0, 0, 0, 11, ...Buffer.from("COMMIT\0")]);

export interface RoundTripCounter {
  /** `target` with its host and port replaced by the proxy's. */
  url: string;
  /** Round trips made through the proxy since it started, on all its connections. */
  readonly roundTrips: number;
  /**
   * The next answer that reports a COMMIT done is not passed on: the proxy drops that connection
   * instead, so the client cannot know that its transaction committed.
   */
  loseNextCommitAnswer(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of PostgreSQL that counts round trips: on each connection, data from the client
 * that comes after an answer from the server (or first on the connection) starts a new round trip, and
 * data the client sends before any answer belongs to the same one (it did not wait). Whatever the
 * server sends is caused by what the client sent, so the count depends on the client's behaviour only,
 * not on timing (a client's write smaller than a loopback segment reaches the proxy in one piece).
 */
export async function startRoundTripCounter(target: string): Promise<RoundTripCounter> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  let roundTrips = 0;
  let commitAnswerToLose = false;
  const server = createServer((client) => {
    const upstream = connect(Number(targetUrl.port || 5432), targetUrl.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    let answered = true;
    client.on("data", (chunk: Buffer) => {
      if (answered && !chunk.equals(TERMINATE)) {
        roundTrips++;
        answered = false;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      answered = true;
      if (commitAnswerToLose && chunk.includes(COMMIT_DONE)) {
        commitAnswerToLose = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    get roundTrips() {
      return roundTrips;
    },
    loseNextCommitAnswer() {
      commitAnswerToLose = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
