// A vitest reporter that ends the run with one line per suite a missing tool
// skipped (test/tool-gate.ts puts "(skipped: why)" in the suite's title), so
// the reason is seen without a verbose reporter.
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = new Set<string>();
    for (const m of modules) {
      for (const t of [...m.children.allSuites(), ...m.children.allTests()]) {
        const why = /\(skipped: (.+)\)$/.exec(t.name)?.[1];
        if (why) lines.add(`skipped ${relative(process.cwd(), m.moduleId)}: ${why}`);
      }
    }
    for (const l of lines) console.log(l);
  }
}
