import { duplicateJsonKeys } from '../support/json-keys';

describe('duplicateJsonKeys', () => {
  it('finds keys repeated in one object, not across objects or in values', () => {
    expect(duplicateJsonKeys('{"component":"api","component":"chat"}')).toEqual(['component']);
    expect(duplicateJsonKeys('{"a":{"b":1},"c":{"b":2},"d":["a","a"],"e":"a\\"b"}')).toEqual([]);
    expect(duplicateJsonKeys('{"a":[{"x":1,"x":2}]}')).toEqual(['x']);
  });
});
