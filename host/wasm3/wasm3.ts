// The wasm3 interpreter in this process, through the Node-API addon of
// binding.c (built on first use by build.ts), with the shape users expect of
// @wasm3/node and of WebAssembly.Instance: instantiate a module with host
// imports, call its exports, view its linear memory.
//
//   const w = instantiate(bytes, { env: { log: (p, n) => ... } }, { memoryLimit: 256 * 1024 });
//   w.exports.init(1, 2, 3); new Uint8Array(w.exports.memory.buffer, ptr, n); w.close();
//
// Values cross as in WebAssembly's JS API: i32, f32, f64 as numbers (i32
// results signed), i64 as BigInt. A trap throws an Error whose message starts
// with "wasm3: [trap]"; an exception thrown by an import propagates as itself.
import { createRequire } from 'node:module';
import { buildWasm3Addon } from './build.ts';

export { missingWasm3, wasm3Source } from './build.ts';

export interface Wasm3Options {
  /** wasm3's value stack, bytes (default 64 KiB). */
  stackBytes?: number;
  /**
   * Most bytes of linear memory wasm3 allocates (default: the declared
   * pages). memory.size still reports the declared pages; an access past the
   * limit traps. Below the end of the module's data, instantiation fails.
   */
  memoryLimit?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HostFunction = (...args: any[]) => unknown;
export type Wasm3Imports = Record<string, Record<string, HostFunction>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Wasm3Export = (...args: (number | bigint)[]) => any;

export interface Wasm3Instance {
  /** Exported functions and globals (`{ value }`) by name, and `memory` (the module's linear memory). */
  readonly exports: Record<string, Wasm3Export> & { memory: Wasm3Memory };
  /** Frees the interpreter now; the memory's ArrayBuffer is detached, calls throw. */
  close(): void;
}

/** The module's linear memory, as WebAssembly.Memory shows it. */
export interface Wasm3Memory {
  /** The bytes wasm3 allocated (at most the memory limit); detached when they move. */
  readonly buffer: ArrayBuffer;
  /** Grows by `pages`; returns the previous size in pages. Throws RangeError past the maximum. */
  grow(pages: number): number;
}

interface NativeInstance {
  exports(): [string, number][];
  call(index: number, ...args: (number | bigint)[]): unknown;
  globals(): string[];
  global(name: string): number | bigint;
  memory(): ArrayBuffer;
  grow(pages: number): number;
  close(): void;
}

let addon: { Instance: new (bytes: Uint8Array, imports: Wasm3Imports, stackBytes: number, memoryLimit: number) => NativeInstance } | undefined;

const DEFAULT_STACK_BYTES = 64 * 1024;

/** Parses, loads, links and starts `bytes` under wasm3. Throws one line naming the failing stage. */
export function instantiate(bytes: Uint8Array, imports: Wasm3Imports = {}, options: Wasm3Options = {}): Wasm3Instance {
  addon ??= createRequire(import.meta.url)(buildWasm3Addon());
  const { stackBytes = DEFAULT_STACK_BYTES, memoryLimit = 0 } = options;
  for (const [k, v] of Object.entries({ stackBytes, memoryLimit }))
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`wasm3: ${k} must be a byte count, got ${v}`);
  const native = new addon!.Instance(bytes, imports, stackBytes, memoryLimit);
  const exports: Record<string, unknown> = {};
  for (const [name, index] of native.exports()) exports[name] = (...args: (number | bigint)[]) => native.call(index, ...args);
  for (const name of native.globals())
    exports[name] = {
      get value() {
        return native.global(name);
      },
    };
  const memory: Wasm3Memory = {
    get buffer() {
      return native.memory();
    },
    grow(pages: number) {
      const before = native.grow(pages);
      if (before < 0) throw new RangeError(`wasm3: memory cannot grow by ${pages} pages`);
      return before;
    },
  };
  exports.memory = memory;
  return { exports: exports as Wasm3Instance['exports'], close: () => native.close() };
}
