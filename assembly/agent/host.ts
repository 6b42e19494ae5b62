// The agent's only imports (docs/protocol.md section 6). Everything else the
// agent needs lives in its own linear memory.

/** Sends `len` bytes at `ptr` to the link; a frame may take several calls. */
// @ts-ignore: decorator
@external("env", "link_write")
export declare function linkWrite(ptr: usize, len: usize): void;

/** Monotonic clock, microseconds. */
// @ts-ignore: decorator
@external("env", "clock_us")
export declare function clockUs(): i64;

/** One diagnostic line (UTF-8); hosts may drop it. */
// @ts-ignore: decorator
@external("env", "log")
export declare function logLine(ptr: usize, len: usize): void;
