// The retransmission timeout (RFC 6298's arithmetic) and the transfer budget.
import { describe, expect, test } from 'vitest';
import { MAX_RTO_MS, MIN_RTO_MS, RetransmitTimer, transferBudgetMs } from '../host/link/retransmit.ts';

describe('RetransmitTimer', () => {
  test('starts at the initial timeout, then SRTT + 4 RTTVAR from the first sample (RTTVAR = R/2)', () => {
    const t = new RetransmitTimer(1000);
    expect(t.timeoutMs).toBe(1000);
    t.sample(400);
    expect(t.timeoutMs).toBe(400 + 4 * 200);
  });

  test('smooths later samples with gains 1/8 and 1/4', () => {
    const t = new RetransmitTimer(1000);
    t.sample(400);
    t.sample(800);
    // RTTVAR = 3/4 * 200 + 1/4 * |400 - 800| = 250; SRTT = 7/8 * 400 + 1/8 * 800 = 450
    expect(t.timeoutMs).toBe(450 + 4 * 250);
  });

  test('doubles per expiry up to the ceiling; a sample ends the backoff', () => {
    const t = new RetransmitTimer(1000);
    t.expired();
    expect(t.timeoutMs).toBe(2000);
    t.expired();
    expect(t.timeoutMs).toBe(4000);
    for (let i = 0; i < 10; i++) t.expired();
    expect(t.timeoutMs).toBe(MAX_RTO_MS);
    t.sample(100);
    expect(t.timeoutMs).toBe(Math.max(MIN_RTO_MS, 100 + 4 * 50));
  });

  test('never goes below the floor on a fast link', () => {
    const t = new RetransmitTimer(1000);
    for (let i = 0; i < 20; i++) t.sample(1);
    expect(t.timeoutMs).toBe(MIN_RTO_MS);
  });
});

describe('transferBudgetMs', () => {
  test('is 8 times the line time, never below the floor', () => {
    expect(transferBudgetMs(11_520, 11_520, 20_000)).toBe(20_000);
    expect(transferBudgetMs(115_200, 11_520, 20_000)).toBe(80_000);
  });
});
