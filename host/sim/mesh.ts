// A simulated device's direct links (DISNET's mesh, docs/protocol.md section
// 3): the outbox sends forwarded output ranges to other devices as RUN frames
// over one loopback TCP connection per peer, paced at the mesh link's rate and
// latency as the gateway link is; the inbox takes such frames from peers.
import { createServer } from 'node:net';
import { encodeFrame, FrameDecoder } from '../link/frame.ts';
import { decodeRequest, type Request } from '../link/messages.ts';
import { openTcp, socketTransport } from '../link/tcp.ts';
import { chunks, type Transport } from '../link/transport.ts';
import { deliver, PacedLine, type WakeAt } from './line.ts';

export type RunChunk = Extract<Request, { type: 'RUN' }>;

/** The rate (bytes/s) and one-way latency of a device's direct links. */
export interface MeshLink {
  rate: number;
  latencyMs: number;
}

interface Peer {
  line: PacedLine;
  link: Promise<Transport | undefined>;
  chain: Promise<void>;
}

export class MeshOutbox {
  private readonly peers = new Map<string, Peer>();

  constructor(
    private readonly link: MeshLink,
    private readonly wake: WakeAt,
  ) {}

  /** Sends framed RUN chunks to the peer at host:port, offered to the line at `offered` (ms). A peer that cannot be reached gets nothing: the gateway sends the range itself. */
  send(host: string, port: number, frame: Uint8Array, offered: number): void {
    const key = `${host}:${port}`;
    let peer = this.peers.get(key);
    if (!peer) {
      peer = { line: new PacedLine(this.link.rate, this.link.latencyMs), link: openTcp(host, port).catch(() => undefined), chain: Promise.resolve() };
      this.peers.set(key, peer);
    }
    const pieces = peer.line.pieces(frame.length, offered);
    const p = peer;
    p.chain = p.chain.then(async () => {
      const t = await p.link;
      if (t) await deliver(pieces, frame, this.wake, (piece) => t.write(piece));
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.peers.values()].map(async (p) => (await p.link)?.close()));
  }
}

/** Listens on loopback for peers' forwarded RUN frames (each passed decoded and as framed on the wire); resolves with the port. */
export async function serveMesh(onChunk: (c: RunChunk, frame: Uint8Array) => void): Promise<number> {
  const server = createServer((socket) => {
    const link = socketTransport(socket, `tcp://${socket.remoteAddress}:${socket.remotePort}`);
    const decoder = new FrameDecoder({ maxPayload: 1 << 21 });
    void (async () => {
      try {
        for await (const bytes of chunks(link)) {
          for (const p of decoder.push(bytes)) {
            let m: Request;
            try {
              m = decodeRequest(p);
            } catch {
              continue;
            }
            if (m.type === 'RUN' && m.run !== undefined && m.run !== 0 && m.total !== undefined) onChunk(m, encodeFrame(p));
          }
        }
      } catch {
        // the peer went away
      }
    })();
  });
  server.unref();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}
