// Suites that need an external tool (a compiler, QEMU, wasm3's source): they
// skip with one line naming what is missing, except under CI=true, where the
// tool must be there and its absence fails the suite.
export interface ToolGate {
  /** For describe.skipIf. */
  skip: boolean;
  /** Appended to the suite's title: " (skipped: why)" when skipped. */
  note: string;
  /** For beforeAll: throws the reason when the tool is missing (only reached under CI). */
  check(): void;
}

export function toolGate(missing: string | null): ToolGate {
  const ci = process.env.CI === 'true';
  const skip = missing !== null && !ci;
  return {
    skip,
    note: skip ? ` (skipped: ${missing})` : '',
    check() {
      if (missing !== null) throw new Error(`CI=true and ${missing}`);
    },
  };
}
