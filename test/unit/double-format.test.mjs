// Double replies as Valkey 8 prints them (d2string: an exact-integer path, then
// fpconv_dtoa's layout of the shortest digits), checked against examples worked
// out from fpconv's layout rules, and a property: every output reads back as
// the same double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDouble, fpconvDtoa } from '../../dist/src/util/numbers.js';

test('formatDouble: specials, integers and fpconv layouts', () => {
  const cases = [
    [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'], [0, '0'], [-0, '-0'],
    [1, '1'], [-42, '-42'], [1e17, '100000000000000000'], [2 ** 60, '1152921504606846976'],
    [2 ** 62, '4611686018427387904'], [-(2 ** 62), '-4611686018427387904'],
    // Past 2^62 integers go through fpconv: plain while |exp| < digits + 7.
    [2 ** 63, '9223372036854776000'], [1e20, '1e+20'], [1.5e20, '1.5e+20'], [1e21, '1e+21'],
    [1.1, '1.1'], [0.1, '0.1'], [-2.5, '-2.5'], [123.456, '123.456'], [99999.5, '99999.5'],
    [0.001234, '0.001234'], [-0.000025, '-0.000025'], [0.000001, '0.000001'],
    // Last digit 7+ places after the point and first digit 4+ places away: exponent form.
    [1.23e-5, '1.23e-5'], [0.000001234, '1.234e-6'], [12345.6789012, '1.23456789012e+4'],
    [1e-7, '1e-7'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
    [1e-100, '1e-100'], [3.0000000000000004, '3.0000000000000004'],
  ];
  for (const [d, s] of cases) assert.equal(formatDouble(d), s, `formatDouble(${d})`);
});

test('fpconvDtoa: no integer path (DEBUG DIGEST of zset scores)', () => {
  assert.equal(fpconvDtoa(1e17), '1e+17');
  assert.equal(fpconvDtoa(5), '5');
  assert.equal(fpconvDtoa(1234567), '1234567');
  assert.equal(fpconvDtoa(-0), '-0');
  assert.equal(fpconvDtoa(0.5), '0.5');
});

test('formatDouble output parses back to the same double', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true }), (d) => {
      const s = formatDouble(d);
      const back = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
      return Object.is(back, d);
    }),
    { numRuns: 20000 },
  );
});
