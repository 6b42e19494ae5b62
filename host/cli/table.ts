// Plain-text tables for the CLI: columns padded to their widest cell.
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function printTable(header: string[], rows: string[][]): void {
  console.log(formatTable(header, rows));
}

/** 98304 -> "96.0K" */
export function kib(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)}K` : `${n}`;
}
