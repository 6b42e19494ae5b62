#!/usr/bin/env node
// Prints the test run's closing line, "N passed, N failed, N skipped", from
// vitest's JSON report (build/test-report.json).
import { readFileSync } from 'node:fs';

const r = JSON.parse(readFileSync(new URL('../build/test-report.json', import.meta.url), 'utf8'));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
