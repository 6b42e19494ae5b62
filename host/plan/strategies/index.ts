// Strategy name -> strategy.
import { layerwise } from './layerwise.ts';
import { microsplit } from './microsplit.ts';
import { single } from './single.ts';
import type { Strategy } from './types.ts';

export type { Strategy };

export const strategies: Record<string, Strategy> = Object.fromEntries([microsplit, single, layerwise].map((s) => [s.name, s]));
