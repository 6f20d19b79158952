// The 80-bit long double emulation behind INCRBYFLOAT, against replies of
// redis-server 7.0.15 (x86-64: strtold, x87 addition, "%.17Lf" then trailing
// zeros stripped, exactly what Valkey does). Each row is
// [stored value, increment, reply]; ERR_FLOAT stands for "value is not a valid
// float", ERR_NAN for "increment would produce NaN or Infinity", and an object
// gives the length and first digits of a very long reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLongDouble,
  addLongDouble,
  formatLongDouble,
  longDoubleFromInt,
  MAX_LONG_DOUBLE_CHARS,
} from '../../dist/src/util/longdouble.js';

/** INCRBYFLOAT's computation, without a server. */
function incrbyfloat(stored, incr) {
  const a = parseLongDouble(stored);
  if (a === null) return 'ERR_FLOAT';
  const b = parseLongDouble(incr);
  if (b === null) return 'ERR_FLOAT';
  const r = addLongDouble(a, b);
  if (r === null || r.inf) return 'ERR_NAN';
  return formatLongDouble(r);
}

/** A value reduced to an odd significand, so equal values compare equal. */
function norm(x) {
  if (x === null) return null;
  let { m, e } = x;
  if (m === 0n) return { neg: x.neg, m: 0n, e: 0, inf: x.inf };
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { neg: x.neg, m, e, inf: x.inf };
}

const VERIFIED = [
  ["10.50","0.1","10.6"],
  ["0","0.1","0.1"],
  ["0.1","0.2","0.3"],
  ["5.0e3","0","5000"],
  ["0","1e20","100000000000000000000"],
  ["0","0.000003814697265625","0.00000381469726562"],
  ["1.5e-17","-3e-17","-0.00000000000000002"],
  ["0.00000000000000002","-3e-17","-0.00000000000000001"],
  ["0","1.5e-17","0.00000000000000002"],
  ["0","0x1p3","8"],
  ["0","0x1.8p1","3"],
  ["0","0X.8P0","0.5"],
  ["0","-0","0"],
  ["-0","-0","0"],
  ["-0.0000000000000000001","0","0"],
  ["3.0000000000000000001","1e-310","3"],
  ["9223372036854775807","1","9223372036854775808"],
  ["-9223372036854775808","-1","-9223372036854775809"],
  ["18446744073709551615","0","18446744073709551615"],
  ["18446744073709551617","0","18446744073709551616"],
  ["36893488147419103231","0","36893488147419103232"],
  ["1","-1","0"],
  ["0.1","-0.1","0"],
  ["1.1","2.2","3.3"],
  ["2.675","0","2.675"],
  ["123","-0.5","122.5"],
  ["-5","3.25","-1.75"],
  ["1e-4940","8","8"],
  ["+.5","1.","1.5"],
  ["1E5","1e+5","200000"],
  ["0","3.14159265358979323846264338327950288","3.14159265358979324"],
  ["0","1e-18","0"],
  ["0","-1e-18","0"],
  ["0","5e-18","0"],
  ["0","5.000001e-18","0.00000000000000001"],
  ["0","2.5e-17","0.00000000000000002"],
  ["0","0.0000019073486328125","0.00000190734863281"],
  ["1e308","1e308",{"len":309,"head":"1999999999999999999933717593116912913211"}],
  ["1.7976931348623157e308","1e308",{"len":309,"head":"2797693134862315700023522404413500787892"}],
  ["0","123456789.123456789","123456789.12345678899873747"],
  ["0","-987654321.987654321987654321","-987654321.9876543220016174"],
  ["0.3","0.6","0.9"],
  ["100","-99.99","0.01"],
  ["1e17","0.5","100000000000000000.5"],
  ["1e18","1","1000000000000000001"],
  ["1e19","1","10000000000000000001"],
  ["12345678901234567890","0.5","12345678901234567890"],
  ["0","0.99999999999999999","0.99999999999999999"],
  ["0","0.999999999999999995","1"],
  ["0","-0.999999999999999995","-1"],
  ["0","1.00000000000000000000000000001","1"],
  ["0","00000.5","0.5"],
  ["0","5.","5"],
  ["0",".5e1","5"],
  ["0","4.9e-4951","0"],
  ["0","3.7e-4951","0"],
  ["0","1e-4950","0"],
  ["0","1.18973149535723176502e4932",{"len":4933,"head":"1189731495357231765021263853030970205169"}],
  ["7","0x1.fffffffffffffffep-1","8"],
  ["0","0x1.ffffffffffffffffp0","2"],
  ["0","0x1.fffffffffffffffe8p0","2"],
  ["0","0x1.fffffffffffffffe80001p0","2"],
  ["0","infinity","ERR_NAN"],
  ["1","nan","ERR_FLOAT"],
  ["1"," 1","ERR_FLOAT"],
  ["1","1 ","ERR_FLOAT"],
  ["1","1e","ERR_FLOAT"],
  ["1","0x","ERR_FLOAT"],
  ["1",".","ERR_FLOAT"],
  ["1","","ERR_FLOAT"],
  ["1","1e5000","ERR_FLOAT"],
  ["1","1e-5000","ERR_FLOAT"],
  ["1","abc","ERR_FLOAT"],
  ["1","--1","ERR_FLOAT"],
  ["1","1..2","ERR_FLOAT"],
  ["1","0x1p","ERR_FLOAT"],
  ["1","1e+","ERR_FLOAT"],
  ["1","inf","ERR_NAN"],
  ["1","-Inf","ERR_NAN"],
  ["abc","1","ERR_FLOAT"],
  ["1.18e4932","1e4932","ERR_NAN"],
  ["-1.18e4932","-1e4932","ERR_NAN"],
  ["inf","-inf","ERR_NAN"],
  ["0","9.999999999999999999999e4931",{"len":4933,"head":"1000000000000000000006018949387963891323"}],
  ["0","1e4932",{"len":4933,"head":"1000000000000000000006018949387963891323"}],
  ["0","1.19e4932","ERR_FLOAT"],
];

test('INCRBYFLOAT results match redis-server 7.0.15', () => {
  for (const [a, b, want] of VERIFIED) {
    const got = incrbyfloat(a, b);
    if (typeof want === 'object') {
      assert.equal(got.length, want.len, `${a} + ${b}: length`);
      assert.equal(got.slice(0, want.head.length), want.head, `${a} + ${b}`);
    } else {
      assert.equal(got, want, `${a} + ${b}`);
    }
  }
});

test('parse: exact binary values and rounding to 64 significant bits', () => {
  assert.deepEqual(norm(parseLongDouble('1')), { neg: false, m: 1n, e: 0, inf: false });
  assert.deepEqual(norm(parseLongDouble('15e-1')), { neg: false, m: 3n, e: -1, inf: false });
  // 0.1 rounds to the nearest 64-bit significand: 0xCCCCCCCCCCCCCCCD * 2^-67.
  assert.deepEqual(parseLongDouble('0.1'), { neg: false, m: 0xcccccccccccccccdn, e: -67, inf: false });
  assert.deepEqual(norm(parseLongDouble('-0x1p-1')), { neg: true, m: 1n, e: -1, inf: false });
  // Ties go to even: 2^64 + 1 is halfway between 2^64 and 2^64 + 2.
  assert.equal(formatLongDouble(parseLongDouble('18446744073709551617')), '18446744073709551616');
  assert.equal(formatLongDouble(parseLongDouble('18446744073709551619')), '18446744073709551620');
  // Smallest subnormal (2^-16445) is accepted, half of it underflows to zero (rejected).
  const tiny = parseLongDouble('0x1p-16445');
  assert.deepEqual(tiny, { neg: false, m: 1n, e: -16445, inf: false });
  assert.equal(parseLongDouble('0x1p-16446'), null);
  assert.deepEqual(parseLongDouble('0x1.8p-16446'), tiny);
  assert.deepEqual(parseLongDouble('3.7e-4951'), tiny);
  assert.equal(parseLongDouble('1.8e-4951'), null);
  // Largest finite value, and the first one that overflows.
  const max = parseLongDouble('0x1.fffffffffffffffep16383');
  assert.deepEqual(max, { neg: false, m: (1n << 64n) - 1n, e: 16320, inf: false });
  assert.equal(parseLongDouble('0x1.ffffffffffffffffp16383'), null);
  assert.equal(parseLongDouble('0x1p16384'), null);
  // Zero is fine, however it is written; infinities parse (adding them then fails).
  assert.equal(formatLongDouble(parseLongDouble('0e999999999999')), '0');
  assert.equal(parseLongDouble('-0x0p0').neg, true);
  assert.equal(parseLongDouble('INFINITY').inf, true);
  assert.equal(parseLongDouble('-inf').neg, true);
  // Length limit of Valkey's string2ld.
  assert.notEqual(parseLongDouble('1.'.padEnd(MAX_LONG_DOUBLE_CHARS - 1, '0')), null);
  assert.equal(parseLongDouble('1.'.padEnd(MAX_LONG_DOUBLE_CHARS, '0')), null);
  for (const bad of ['', ' 1', '1 ', '\t1', '1\n', 'nan', '-nan', 'NaN(1)', 'infinit', '0x', '0xp1', '1e', 'e1', '.', '-', '+-1', '1_000', '0b1', '１']) {
    assert.equal(parseLongDouble(bad), null, JSON.stringify(bad));
  }
});

test('add and format: exact sums, signs, int64 inputs', () => {
  const add = (a, b) => formatLongDouble(addLongDouble(parseLongDouble(a), parseLongDouble(b)));
  assert.equal(add('1e30', '-1e30'), '0');
  assert.equal(add('1e19', '1'), '10000000000000000001');
  assert.equal(add('0x1p70', '1'), '1180591620717411303424');
  assert.equal(add('0x1p70', '0x1p6'), '1180591620717411303424');
  assert.equal(add('0x1p70', '0x1.0000001p6'), '1180591620717411303552');
  assert.equal(add('1e-30', '1'), '1');
  assert.equal(add('-2.5', '1'), '-1.5');
  assert.equal(addLongDouble(parseLongDouble('inf'), parseLongDouble('-inf')), null);
  assert.equal(addLongDouble(parseLongDouble('inf'), parseLongDouble('1')).inf, true);
  // Overflow of a sum of two finite values gives an infinity.
  const max = parseLongDouble('0x1.fffffffffffffffep16383');
  assert.equal(addLongDouble(max, max).inf, true);
  assert.equal(addLongDouble(max, parseLongDouble('1')).inf, false);
  // Stored integers are converted exactly.
  assert.equal(formatLongDouble(longDoubleFromInt(-9223372036854775808n)), '-9223372036854775808');
  assert.equal(formatLongDouble(addLongDouble(longDoubleFromInt(9007199254740993n), longDoubleFromInt(1))), '9007199254740994');
  assert.equal(formatLongDouble(longDoubleFromInt(0)), '0');
  // 17 decimals, half to even, trailing zeros and dot removed, "-0" written "0".
  assert.equal(formatLongDouble(parseLongDouble('0x1p-18')), '0.00000381469726562');
  assert.equal(formatLongDouble(parseLongDouble('0x3p-18')), '0.00001144409179688');
  assert.equal(formatLongDouble(parseLongDouble('-1e-30')), '0');
  assert.equal(formatLongDouble(parseLongDouble('-0.5')), '-0.5');
  assert.equal(formatLongDouble(parseLongDouble('1e3')), '1000');
});
