/**
 * What `wrtkit build` prints while it works: one line per step as it starts and as it
 * ends (with how long it took and what it made), warnings, and the summary table at the
 * end. Progress goes to stderr so that stdout carries only the summary (pipeable).
 */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export class Progress {
  private readonly started = Date.now();
  private step = 0;

  constructor(
    private readonly output: Output = processOutput,
    private readonly total = 0,
  ) {}

  /** Runs one step: `[3/7] packages …` then `      done in 1.2 s: 6 ipk`. */
  async run<T>(title: string, work: () => Promise<T> | T, summary?: (result: T) => string): Promise<T> {
    this.step++;
    const n = this.total ? `[${this.step}/${this.total}]` : `[${this.step}]`;
    this.output.err(`${n} ${title}`);
    const t0 = Date.now();
    const result = await work();
    const said = summary ? `: ${summary(result)}` : '';
    this.output.err(`${' '.repeat(n.length)} done in ${seconds(Date.now() - t0)}${said}`);
    return result;
  }

  info(text: string): void {
    this.output.err(`    ${text}`);
  }

  warn(text: string): void {
    this.output.err(`warning: ${text}`);
  }

  elapsed(): string {
    return seconds(Date.now() - this.started);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A plain text table: columns padded to their widest cell; `right` columns right-aligned. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
