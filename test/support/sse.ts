/** The event names of an SSE body, in order, and the data of the last one. */
export function sseEvents(body: string): { names: string[]; last: unknown } {
  const frames = body.split('\n\n').filter((f) => f.startsWith('event: '));
  const names = frames.map((f) => f.slice('event: '.length, f.indexOf('\n')));
  const lastFrame = frames.at(-1) ?? '';
  return { names, last: JSON.parse(lastFrame.slice(lastFrame.indexOf('data: ') + 'data: '.length) || 'null') };
}
