/**
 * A first-in, first-out queue on an array and a head index: constant-time push and shift, and a
 * slot is cleared the moment its item is handed out. That matters for garbage collection: a
 * long-lived array is in V8's old generation, and every young object one of its slots points to
 * survives each young-generation collection and is promoted, with everything it references, however
 * long ago it was dead to the program. A queue that kept taken items until its next compaction made
 * the access events (and through them whole requests) outlive two collections.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    this.compact();
    return item;
  }

  /** Up to `n` of the oldest items, removed, oldest first. */
  take(n: number): T[] {
    const end = Math.min(this.head + n, this.items.length);
    const taken = this.items.slice(this.head, end) as T[];
    this.items.fill(undefined, this.head, end);
    this.head = end;
    this.compact();
    return taken;
  }

  /** Puts `items` back in front of the rest, in their order (a batch that could not be sent). */
  putBack(items: readonly T[]): void {
    this.items = (items as (T | undefined)[]).concat(this.items.slice(this.head));
    this.head = 0;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
