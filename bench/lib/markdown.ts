/** A column of a table: its header and how a row's cell is written. */
export type Column<R> = readonly [header: string, cell: (row: R) => string | number];

/** The report, as Markdown lines. */
export class Markdown {
  private readonly out: string[] = [];

  line(s = ''): void {
    this.out.push(s);
  }

  row(cells: (string | number)[]): void {
    this.line(`| ${cells.join(' | ')} |`);
  }

  head(cells: string[]): void {
    this.row(cells);
    this.row(cells.map(() => '---'));
  }

  /** A table with one line per row. */
  table<R>(columns: Column<R>[], rows: R[]): void {
    this.head(columns.map(([header]) => header));
    for (const r of rows) this.row(columns.map(([, cell]) => cell(r)));
  }

  toString(): string {
    return this.out.join('\n');
  }
}
