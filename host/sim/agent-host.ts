// Hosts build/agent.wasm in Node's WebAssembly, or under the wasm3
// interpreter (host/wasm3) as a wasm3 board would (build/agent-wasm3.wasm, the
// same sources built for size, as on wasm3 boards), the way the C firmware
// hosts it (docs/protocol.md section 6): provides link_write / clock_us / log,
// copies received bytes into the agent's receive buffer, and polls it.
import { ENGINES } from '../abi/abi.generated.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instantiate } from '../wasm3/wasm3.ts';

export const AGENT_WASM = fileURLToPath(new URL('../../build/agent.wasm', import.meta.url));
/** The agent under wasm3: built for size, since wasm3 keeps its compiled code in RAM (docs/firmware.md). */
export const AGENT_WASM3 = fileURLToPath(new URL('../../build/agent-wasm3.wasm', import.meta.url));

export type EngineName = keyof typeof ENGINES;

export interface AgentHostOptions {
  /**
   * Bytes of linear memory the device gives the agent: its static data, its
   * two window-sized buffers and the arena (agentOverhead() says how much of
   * it the arena does not get). Any size: the memory is whole pages, the agent
   * uses these bytes only, and under wasm3 they are its memory limit.
   */
  memory: number;
  /** Receive window W, wire bytes (64..65536). */
  window: number;
  /** Called with every piece of bytes the agent writes to the link (a copy). */
  write: (bytes: Uint8Array) => void;
  /** What the agent reports in HELLO; 'wasm3' also runs it under wasm3 instead of Node's WebAssembly. */
  engine?: EngineName;
  /** Provisions the device key (1..64 bytes). */
  key?: Uint8Array;
  /** The session of this start of a keyed device: nonzero, never used before with this key (a boot counter). */
  session?: number;
  /** Monotonic microseconds; defaults to process.hrtime. */
  clockUs?: () => bigint;
  log?: (line: string) => void;
  /** The module (Node's WebAssembly); defaults to build/agent.wasm. */
  module?: WebAssembly.Module;
}

interface AgentExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  init(memoryBytes: number, window: number, engine: number): number;
  rx_buffer(): number;
  provision_key(len: number, session: number): number;
  feed(len: number): number;
  poll(): number;
  set_mesh_port(port: number): void;
  high_water(): number;
  arena_used(): number;
  agent_overhead(): number;
}

const modules = new Map<string, WebAssembly.Module>();
let agentBytes: Uint8Array | undefined;

/** The compiled agent module, read once per path. */
export function loadAgentModule(path = AGENT_WASM): WebAssembly.Module {
  let m = modules.get(path);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(path));
    modules.set(path, m);
  }
  return m;
}

const PAGE_BYTES = 65536;
/** Most memory a 32-bit wasm address space can give: 65536 pages less one byte (init takes a u32). */
const MAX_MEMORY_BYTES = 0xffffffff;

const overheads = new Map<number, number>();

/**
 * Bytes of the agent's memory that are not arena for a receive window
 * (static data, receive and frame buffers): the same agent.wasm reports the
 * same figure in HELLO on every engine and board.
 */
export function agentOverhead(window: number): number {
  let n = overheads.get(window);
  if (n === undefined) {
    n = new AgentHost({ memory: 2 * window + 4 * PAGE_BYTES, window, write: () => {} }).overhead;
    overheads.set(window, n);
  }
  return n;
}

const defaultClock = () => process.hrtime.bigint() / 1000n;

export class AgentHost {
  readonly window: number;
  /** Bytes of the agent's memory below its arena (HELLO's `overhead`). */
  readonly overhead: number;
  private readonly exports: AgentExports;

  constructor(options: AgentHostOptions) {
    const { memory: memoryBytes, window, write, engine = 'node', key, session, clockUs = defaultClock, log } = options;
    if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes > MAX_MEMORY_BYTES)
      throw new RangeError(`memory must be a byte count in 1..${MAX_MEMORY_BYTES}, got ${memoryBytes}`);
    if (!Number.isInteger(window) || window < 64 || window > 65536) throw new RangeError(`window must be an integer in 64..65536, got ${window}`);
    let memory: AgentExports['memory'] | undefined;
    const view = (ptr: number, len: number) => {
      // An import taking (pointer, length) checks it against memory first.
      const buf = memory!.buffer;
      if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) throw new RangeError(`agent passed a region [${ptr}, ${ptr + len}) outside its memory`);
      return new Uint8Array(buf, ptr, len);
    };
    const imports = {
      env: {
        link_write: (ptr: number, len: number) => write(view(ptr, len).slice()),
        clock_us: clockUs,
        log: (ptr: number, len: number) => log?.(new TextDecoder().decode(view(ptr, len))),
      },
    };
    const instance =
      engine === 'wasm3'
        ? instantiate((agentBytes ??= new Uint8Array(readFileSync(AGENT_WASM3))), imports, { memoryLimit: memoryBytes })
        : new WebAssembly.Instance(options.module ?? loadAgentModule(), imports);
    this.exports = instance.exports as unknown as AgentExports;
    memory = this.exports.memory;
    // The module declares one page and no maximum: the host grows it to cover
    // the device's bytes (wasm3 allocates no more than its memory limit).
    const pages = Math.ceil(memoryBytes / PAGE_BYTES) - this.exports.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > 0) this.exports.memory.grow(pages);
    const status = this.exports.init(memoryBytes, window, ENGINES[engine]);
    if (status !== 0)
      throw new RangeError(`agent refused init (code ${status}): its static data and two buffers of window ${window} must leave an arena in ${memoryBytes} bytes of memory`);
    this.overhead = this.exports.agent_overhead();
    this.window = window;
    if (key) {
      if (key.length < 1 || key.length > 64) throw new RangeError(`device key must be 1..64 bytes, got ${key.length}`);
      if (session === undefined || !Number.isInteger(session) || session < 1 || session > 0xffffffff)
        throw new RangeError(`a keyed device needs a session in 1..${0xffffffff} (its boot counter), got ${session}`);
      this.rxView(key.length).set(key);
      if (this.exports.provision_key(key.length, session) !== 0) throw new Error('agent refused the key');
    }
  }

  private rxView(len: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, this.exports.rx_buffer(), len);
  }

  /** Hands received bytes to the agent, at most a window at a time. */
  feed(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += this.window) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + this.window));
      this.rxView(piece.length).set(piece);
      this.exports.feed(piece.length);
    }
  }

  /** One step of pending work; true while more remains. */
  poll(): boolean {
    return this.exports.poll() !== 0;
  }

  /** The TCP port where this device's host forwards outputs and takes forwarded chunks; HELLO reports it (docs/protocol.md section 3). */
  setMeshPort(port: number): void {
    this.exports.set_mesh_port(port);
  }

  /** Polls until the agent is idle. */
  drain(): void {
    while (this.poll());
  }

  get highWater(): number {
    return this.exports.high_water();
  }

  get arenaUsed(): number {
    return this.exports.arena_used();
  }

  /** A copy of `len` bytes of the agent's linear memory at `ptr` (for checks from outside). */
  readMemory(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr, len).slice();
  }

  /** Bytes of linear memory (the whole address space the agent can touch). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }
}
