import { tokenOfBearer } from '../../src/api/plugins/auth';

/** tokenOfBearer must take exactly what `/^Bearer\s+(\S+)\s*$/i` captures, whatever the header holds. */
const PATTERN = /^Bearer\s+(\S+)\s*$/i;
const JWT = `eyJhbGciOiJSUzI1NiJ9.${'eyJzdWIiOiIxIn0'.repeat(20)}.${'c2lnbmF0dXJl'.repeat(30)}`;

describe('tokenOfBearer', () => {
  it.each([
    `Bearer ${JWT}`,
    `bearer  ${JWT} \t`,
    `BEARER\t${JWT}\r\n`,
    'Bearer',
    'Bearer ',
    'Bearer    ',
    'Bearerx',
    ' Bearer x',
    'Bearer a b',
    'Bearer a\tb',
    'Bearer\u00a0x',
    'Bearer x\u00a0',
    'Bearer x\u00a0y',
    'Bearer x\ny',
    'Bearer \ufeffx',
    'Basic dXNlcjpwYXNz',
    '',
    `Bearer ${JWT},Bearer ${JWT}`,
  ])('%j → what the pattern captures', (header) => {
    expect(tokenOfBearer(header)).toBe(PATTERN.exec(header)?.[1]);
  });

  it('takes the token of a well-formed header', () => {
    expect(tokenOfBearer(`Bearer ${JWT}`)).toBe(JWT);
    expect(tokenOfBearer('Bearer a b')).toBeUndefined();
  });
});
