/**
 * Removes `items[slot]` in constant time by moving the last item into its place. Returns the item
 * moved (now at `slot`, so its owner can update the slot it keeps), or undefined when the removed
 * item was the last one. For lists of calls in flight that each know their slot (Deadlines,
 * StallWatch): a Set there made V8 rebuild its table every few calls (docs/performance.md).
 */
export function swapRemove<T>(items: T[], slot: number): T | undefined {
  const last = items.pop()!;
  if (slot === items.length) return undefined;
  items[slot] = last;
  return last;
}
