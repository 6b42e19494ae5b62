// The import rule of docs/architecture.md, checked on the tree
// (tools/check-imports.ts; `npm run lint:imports` prints the same lines).
import { describe, expect, it } from 'vitest';
import { checkImports, productFiles } from '../tools/check-imports.ts';

describe('imports point down', () => {
  it('hold for host/ and assembly/: no upward import, none of tools/ or test/, no cycle', () => {
    expect(checkImports(productFiles())).toEqual([]);
  });

  it('are checked: an upward import, a tools/ import, a host-assembly import and a cycle are each named', () => {
    const files = new Map([
      ['host/model/ir.ts', "import { plan } from '../plan/search.ts';"],
      ['host/plan/search.ts', "export const plan = 1;\nimport type { X } from '../../tools/models/train.ts';"],
      ['host/plan/a.ts', "import { b } from './b.ts';"],
      ['host/plan/b.ts', "export const b = 1; const a = () => import('./a.ts');"],
      ['assembly/kernels/conv.ts', 'import { T_HELLO } from "../agent/protocol.generated";'],
      ['host/link/frame.ts', "import { run } from '../../assembly/kernels/conv.ts';"],
      ['host/newroom/x.ts', ''],
    ]);
    expect(checkImports(files)).toEqual([
      'host/model/ir.ts imports host/plan/search.ts: host/model may not import host/plan (imports point down: docs/architecture.md)',
      'host/plan/search.ts imports tools/models/train.ts: product code never imports tools/ or test/',
      'assembly/kernels/conv.ts imports assembly/agent/protocol.generated.ts: assembly/kernels may not import assembly/agent (imports point down: docs/architecture.md)',
      'host/link/frame.ts imports assembly/kernels/conv.ts: host and assembly do not import each other',
      'host/newroom/x.ts lies in no room of RANKS (tools/check-imports.ts): give its folder a rank',
      'import cycle: host/plan/a.ts → host/plan/b.ts → host/plan/a.ts',
    ]);
  });
});
