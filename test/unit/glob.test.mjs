// globMatch (src/util/glob.ts) against Valkey's stringmatchlen rules: hand-picked
// cases for every rule and quirk, and a property test against a regular
// expression model for well-formed patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globMatch, isLiteralPattern } from '../../dist/src/util/glob.js';

const yes = (p, s, nocase = false) => assert.equal(globMatch(p, s, nocase), true, `${JSON.stringify(p)} should match ${JSON.stringify(s)}${nocase ? ' (nocase)' : ''}`);
const no = (p, s, nocase = false) => assert.equal(globMatch(p, s, nocase), false, `${JSON.stringify(p)} should not match ${JSON.stringify(s)}${nocase ? ' (nocase)' : ''}`);

test('literals and the empty string', () => {
  yes('hello', 'hello');
  no('hello', 'hell');
  no('hell', 'hello');
  no('hello', 'Hello');
  yes('', '');
  no('', 'a');
  no('a', '');
  // The matcher only runs while both sides have bytes left: an empty string
  // matches nothing but the empty pattern (KEYS/SCAN special-case "*" itself).
  no('*', '');
  no('**', '');
  no('?', '');
  no('[a]', '');
});

test('? matches exactly one byte', () => {
  yes('h?llo', 'hello');
  yes('h?llo', 'h\x00llo');
  yes('h?llo', 'h\xffllo');
  no('h?llo', 'hllo');
  no('h?llo', 'heello');
  yes('???', 'abc');
  no('???', 'ab');
});

test('* matches any run of bytes, including none', () => {
  yes('*', 'a');
  yes('*', 'anything at all');
  yes('h*llo', 'hllo');
  yes('h*llo', 'heeeello');
  yes('h*llo', 'hello');
  no('h*llo', 'helo');
  yes('*llo', 'hello');
  yes('he*', 'he');
  yes('he*', 'hello');
  yes('he**', 'he');
  yes('a*b*c', 'abc');
  yes('a*b*c', 'aXXbYYc');
  no('a*b*c', 'aXXcYYb');
  yes('*a*', 'banana');
  yes('**a**', 'a');
  yes('*[0-9]', 'user:1');
  no('*[0-9]', 'user:x');
  yes('user:*', 'user:');
  no('user:*', 'user');
});

test('many stars fail fast on a long non-matching string', () => {
  const p = 'a*'.repeat(30) + 'b';
  const s = 'a'.repeat(5000);
  const t0 = Date.now();
  no(p, s);
  assert.ok(Date.now() - t0 < 2000, 'skip-longer-matches keeps this linear-ish');
  yes(p, s + 'b');
});

test('recursion through * is capped at 1000 levels, like Valkey', () => {
  yes('*a'.repeat(1000), 'a'.repeat(1000));
  no('*a'.repeat(1001), 'a'.repeat(1001));
});

test('character classes', () => {
  yes('h[ae]llo', 'hello');
  yes('h[ae]llo', 'hallo');
  no('h[ae]llo', 'hillo');
  no('h[ae]llo', 'hllo');
  yes('h[^e]llo', 'hallo');
  no('h[^e]llo', 'hello');
  yes('h[^ae]llo', 'hxllo');
  no('h[^ae]llo', 'hallo');
  // '!' is not a negation in Valkey.
  yes('[!a]', '!');
  yes('[!a]', 'a');
  no('[!a]', 'b');
  // ']' first in a class closes an empty class, which matches nothing...
  no('[]a]', ']');
  no('[]', 'a');
  // ...and '[^]' matches any byte.
  yes('[^]', 'x');
  yes('x[^]y', 'x]y');
  // '^' anywhere but first is literal.
  yes('[a^]', '^');
  // '*' and '?' inside a class are literal.
  yes('[*?]', '*');
  yes('[*?]', '?');
  no('[*?]', 'a');
});

test('ranges', () => {
  yes('[a-c]', 'a');
  yes('[a-c]', 'b');
  yes('[a-c]', 'c');
  no('[a-c]', 'd');
  no('[a-c]', '`');
  // Reversed ends are swapped.
  yes('[c-a]', 'b');
  yes('h[b-a]llo', 'hallo');
  // Several ranges and singles in one class.
  yes('[0-9a-fx]', 'f');
  yes('[0-9a-fx]', 'x');
  yes('[0-9a-fx]', '7');
  no('[0-9a-fx]', 'g');
  yes('[^0-9]', 'a');
  no('[^0-9]', '5');
  // A '-' at the start or right before ']' ... at the start it is literal.
  yes('[-a]', '-');
  // 'a-]' is the range ']'..'a' and the class goes on to the next ']' (or the end).
  yes('[a-]', '^');
  yes('[a-]', 'a');
  no('[a-]', ']x');
  yes('[a-]x]', '_');
  no('[a-]x]', '_x]');
  // 'a-' with nothing after it: '-' is a literal, the class is unterminated.
  yes('[a-', 'a');
  yes('[a-', '-');
  no('[a-', 'b');
});

test('range ends compare as signed C chars (x86-64 Valkey)', () => {
  // "\xff" is -1, so [a-\xff] is the range -1..'a'.
  yes('[a-\xff]', '\xff');
  yes('[a-\xff]', 'a');
  yes('[a-\xff]', '\x00');
  no('[a-\xff]', 'b');
  no('[a-\xff]', '\x80');
  yes('[\x80-\xff]', '\x80');
  yes('[\x80-\xff]', '\xc3');
  yes('[\x80-\xff]', '\xff');
  no('[\x80-\xff]', 'a');
  // [\x00-\xff] is 0..-1, swapped to -1..0: only those two bytes.
  yes('[\x00-\xff]', '\x00');
  yes('[\x00-\xff]', '\xff');
  no('[\x00-\xff]', 'a');
  yes('[^a-\xff]', 'b');
  no('[^a-\xff]', 'a');
  // Plain bytes >= 0x80 compare by value.
  yes('\xe9t\xe9', '\xe9t\xe9');
  yes('[\xe9]', '\xe9');
  no('[\xe9]', '\xc9');
});

test('backslash escapes', () => {
  yes('h\\*llo', 'h*llo');
  no('h\\*llo', 'hello');
  yes('h\\?llo', 'h?llo');
  no('h\\?llo', 'hallo');
  yes('h\\[a\\]llo', 'h[a]llo');
  yes('h\\\\llo', 'h\\llo');
  yes('\\a\\b', 'ab');
  // A trailing backslash is a literal backslash.
  yes('h\\', 'h\\');
  no('h\\', 'h');
  // Escapes inside a class.
  yes('h[\\]]llo', 'h]llo');
  yes('[\\^a]', '^');
  yes('[\\-a]', '-');
  yes('[a\\-c]', '-');
  no('[a\\-c]', 'b');
  yes('[\\\\]', '\\');
  // A backslash at the very end of an unterminated class is literal.
  yes('[\\', '\\');
});

test('unterminated classes end with the pattern', () => {
  no('[', 'a');
  no('[', '[');
  yes('[abc', 'a');
  yes('[abc', 'c');
  no('[abc', 'd');
  no('[abc', 'ab');
  yes('h[a', 'ha');
  no('h[a', 'hb');
  no('h[', 'h');
  no('h[', 'ha');
  // '[^' with nothing after it matches any one byte.
  yes('[^', 'x');
  no('[^', 'xy');
  yes('[^a', 'b');
  no('[^a', 'a');
});

test('nocase', () => {
  yes('HeLLo', 'hello', true);
  yes('hello', 'HELLO', true);
  no('hello', 'HELLO', false);
  yes('h?LLO', 'hello', true);
  yes('[A-C]', 'b', true);
  yes('[a-c]', 'B', true);
  yes('[^A-C]', 'd', true);
  no('[^A-C]', 'b', true);
  yes('[XY]', 'x', true);
  yes('[xy]', 'Y', true);
  // Only ASCII letters fold.
  no('\xe9', '\xc9', true);
  // An escaped char in a class is compared exactly even in nocase mode.
  no('[\\A]', 'a', true);
  yes('[\\A]', 'A', true);
  // ...but an escaped char outside a class folds.
  yes('\\A', 'a', true);
  // A range over non-letters stays as it is: '[' (91) .. '`' (96) does not hold 'a'.
  no('[[-`]', 'a', true);
});

test('isLiteralPattern', () => {
  assert.equal(isLiteralPattern('hello'), true);
  assert.equal(isLiteralPattern(''), true);
  assert.equal(isLiteralPattern('a*'), false);
  assert.equal(isLiteralPattern('a?'), false);
  assert.equal(isLiteralPattern('[a]'), false);
  assert.equal(isLiteralPattern('a\\b'), false);
});

// ---------------------------------------------------------------- property test

// A well-formed pattern is a list of tokens; each has a glob spelling and a
// regular expression meaning. Bytes are drawn from a small alphabet that holds
// every special character, so escapes and literal specials get exercised.
const ALPHA = ['a', 'b', 'c', 'A', '-', '*', '?', '[', ']', '^', '\\', '\xe9'];
const reEsc = (ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');

const literal = fc.constantFrom(...ALPHA).map((ch) => {
  const special = '*?[\\'.includes(ch);
  return { glob: special ? '\\' + ch : ch, re: reEsc(ch) };
});
const star = fc.constant({ glob: '*', re: '[\\s\\S]*' });
const any = fc.constant({ glob: '?', re: '[\\s\\S]' });
const classItem = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'A', '*', '?', '\xe9').map((ch) => ({ glob: ch, re: reEsc(ch) })),
  fc.constantFrom(']', '\\', '^', '-', '[').map((ch) => ({ glob: '\\' + ch, re: reEsc(ch) })),
  fc.constantFrom(['a', 'c'], ['A', 'a'], ['b', 'b'], ['*', 'A']).map(([x, y]) => ({ glob: `${x}-${y}`, re: `${reEsc(x)}-${reEsc(y)}` })),
);
const klass = fc.tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 4 })).map(([neg, items]) => ({
  // A class must not start with '^' unless negated, nor look like a range by accident.
  glob: '[' + (neg ? '^' : '') + items.map((i) => i.glob).join('') + ']',
  re: '[' + (neg ? '^' : '') + items.map((i) => i.re).join('') + ']',
}));
const patternArb = fc.array(fc.oneof({ weight: 4, arbitrary: literal }, { weight: 2, arbitrary: star }, any, klass), { maxLength: 7 });
const stringArb = fc.array(fc.constantFrom(...ALPHA, 'x'), { minLength: 1, maxLength: 10 }).map((a) => a.join(''));

test('property: well-formed patterns agree with a regular expression model', () => {
  fc.assert(
    fc.property(patternArb, stringArb, (tokens, s) => {
      // Two adjacent items like 'a' then '-c' would read as a range: avoid by
      // construction (items never start with '-' unescaped), so the model holds.
      const glob = tokens.map((t) => t.glob).join('');
      const re = new RegExp('^' + tokens.map((t) => t.re).join('') + '$');
      return globMatch(glob, s) === re.test(s);
    }),
    { numRuns: 3000 },
  );
});

test('property: a pattern without specials matches only itself', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'x', '\xff', '\x00') }), fc.string({ unit: fc.constantFrom('a', 'b', 'x', '\xff', '\x00') }), (p, s) => {
      return globMatch(p, s) === (p === s);
    }),
  );
});
