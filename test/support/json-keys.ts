/**
 * Keys that occur more than once in one object of a JSON text (JSON.parse keeps the last one
 * silently, so this reads the raw text).
 */
export function duplicateJsonKeys(text: string): string[] {
  const duplicates: string[] = [];
  const stack: { keys: Set<string>; isObject: boolean; expectKey: boolean }[] = [];
  let i = 0;
  const readString = (): string => {
    const start = i;
    i += 1;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i)) as string;
  };
  while (i < text.length) {
    const c = text[i]!;
    const top = stack[stack.length - 1];
    if (c === '{' || c === '[') {
      stack.push({ keys: new Set(), isObject: c === '{', expectKey: c === '{' });
      i += 1;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i += 1;
    } else if (c === ',') {
      if (top?.isObject) top.expectKey = true;
      i += 1;
    } else if (c === '"') {
      const value = readString();
      if (top?.isObject && top.expectKey) {
        if (top.keys.has(value)) duplicates.push(value);
        top.keys.add(value);
        top.expectKey = false;
      }
    } else {
      i += 1;
    }
  }
  return duplicates;
}
