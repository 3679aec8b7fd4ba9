// A TCP proxy on 127.0.0.1 that a test can cut and restore: one client's link to a server fails
// (a network partition of that client alone) while the server stays up for everyone else.
import type { Socket, TCPSocketListener } from "bun";

export class TcpProxy implements Disposable {
  private readonly pairs = new Set<Socket<{ peer: Socket<unknown> | null; buffered: Uint8Array[] }>>();
  private listener: TCPSocketListener<{ peer: Socket<unknown> | null; buffered: Uint8Array[] }>;
  /** False while cut: existing connections are closed, new ones refused. */
  open = true;

  constructor(targetPort: number) {
    const pairs = this.pairs;
    this.listener = Bun.listen<{ peer: Socket<unknown> | null; buffered: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          if (!this.open) return void client.end();
          client.data = { peer: null, buffered: [] };
          pairs.add(client);
          void Bun.connect<{ client: typeof client }>({
            hostname: "127.0.0.1",
            port: targetPort,
            data: { client },
            socket: {
              open(upstream) {
                client.data.peer = upstream as Socket<unknown>;
                for (const b of client.data.buffered.splice(0)) upstream.write(b);
              },
              data(upstream, chunk) {
                upstream.data.client.write(chunk);
              },
              close(upstream) {
                upstream.data.client.end();
              },
              error(upstream) {
                upstream.data.client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.peer) client.data.peer.write(chunk);
          else client.data.buffered.push(new Uint8Array(chunk));
        },
        close(client) {
          client.data?.peer?.end();
          pairs.delete(client);
        },
        error(client) {
          client.data?.peer?.end();
        },
      },
    });
  }

  get url(): string {
    return `nats://127.0.0.1:${this.listener.port}`;
  }

  /** Drops every connection through it and refuses new ones until restore(). */
  cut(): void {
    this.open = false;
    for (const c of this.pairs) {
      c.data.peer?.end();
      c.end();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.open = true;
  }

  [Symbol.dispose](): void {
    this.cut();
    this.listener.stop(true);
  }
}
