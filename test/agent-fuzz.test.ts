// The frame fuzz of tools/fuzz/agent-frames.ts at a CI-sized count (npm run
// fuzz runs 100k per mode): no trap escapes the agent, every reply is a valid
// message, the arena stays within its budget, and it still answers PING.
import { describe, expect, it } from 'vitest';
import { fuzzAgentFrames } from '../tools/fuzz/agent-frames.ts';

describe('agent frame fuzz', () => {
  it.each([
    ['unkeyed', false, false, 11],
    ['keyed', true, false, 12],
    ['keyed, sealed', true, true, 13],
  ])('%s device: 5000 random and mutated inputs', (_, keyed, sealed, seed) => {
    const r = fuzzAgentFrames({ count: 5000, seed, keyed, sealed });
    expect(r.inputs).toBe(5000);
    // The mutations reach the handlers, not only the CRC check.
    expect(r.results).toBeGreaterThan(0);
    expect(r.replies.ERROR).toBeGreaterThan(0);
    expect(r.maxHighWater).toBeLessThanOrEqual(r.budget);
  });
});
