// Kuhn-Munkres (the Hungarian algorithm) for a square cost matrix: the
// assignment of rows to columns with the least total cost, in O(n^3) with
// row and column potentials. Written here because it is twenty lines and
// the replicated strategy needs nothing more (maximum-weight matching is the
// same problem on negated weights).

/** Returns assign[row] = column minimizing Σ cost[row][assign[row]]. */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  if (cost.some((r) => r.length !== n)) throw new Error(`hungarian: cost matrix must be square, got ${n} rows of lengths ${cost.map((r) => r.length)}`);
  // 1-based arrays: column 0 is a virtual start column.
  const u = new Array<number>(n + 1).fill(0);
  const v = new Array<number>(n + 1).fill(0);
  const rowOf = new Array<number>(n + 1).fill(0);
  const way = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const minv = new Array<number>(n + 1).fill(Infinity);
    const used = new Array<boolean>(n + 1).fill(false);
    do {
      // Grow the alternating tree by the column with the least reduced cost.
      used[j0] = true;
      const i0 = rowOf[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOf[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // Flip the augmenting path.
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assign = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) if (rowOf[j] > 0) assign[rowOf[j] - 1] = j - 1;
  return assign;
}
