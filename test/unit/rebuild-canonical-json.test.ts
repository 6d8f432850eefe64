/**
 * The manifest's hashed part is canonical JSON (RFC 8785). These are the RFC's own examples:
 * §3.2.2 (a whole document: literals, numbers, string escapes), §3.2.3 (member order by UTF-16
 * code units) and Appendix B (IEEE 754 doubles and the text ECMAScript gives them), plus what
 * I-JSON refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/recipe/canonical-json.js';
import { ReprimageError } from '../../src/errors.js';

test('RFC 8785 §3.2.2: the example document', () => {
  const input = JSON.parse('{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}') as unknown;
  assert.equal(canonicalJson(input), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
});

test('RFC 8785 §3.2.3: members sorted by UTF-16 code units, not code points or locale', () => {
  const input = JSON.parse('{\n  "\\u20ac": "Euro Sign",\n  "\\r": "Carriage Return",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "1": "One",\n  "\\ud83d\\ude00": "Emoji: Grinning Face",\n  "\\u0080": "Control",\n  "\\u00f6": "Latin Small Letter O With Diaeresis"\n}') as Record<string, string>;
  const out = canonicalJson(input);
  // (JSON.parse would list "1" first, as an array index: the text order is what is checked)
  const order = [...out.matchAll(/"([^"]*)":"[^"]*"/g)].map((m) => m[1]);
  assert.deepEqual(order, ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  assert.equal(out, '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
});

test('RFC 8785 Appendix B: IEEE 754 doubles serialized as ECMAScript does', () => {
  const cases: Array<[string, string]> = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [hex, text] of cases) assert.equal(canonicalJson(Buffer.from(hex, 'hex').readDoubleBE(0)), text, hex);
  // NaN and Infinity (0x7fffffffffffffff, 0x7ff0000000000000) are not JSON
  for (const hex of ['7fffffffffffffff', '7ff0000000000000']) {
    assert.throws(() => canonicalJson({ n: Buffer.from(hex, 'hex').readDoubleBE(0) }, 'manifest.json'), (e: unknown) => e instanceof ReprimageError && /^manifest\.json: \$\.n: /.test(e.message));
  }
});

test('no white space, nested objects sorted, absent members left out, the insertion order does not matter', () => {
  assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: { z: null, y: 'x' }, u: undefined }), '{"a":{"y":"x","z":null},"b":[1,{"c":2,"d":1}]}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('what I-JSON does not allow is refused, not written', () => {
  for (const bad of [{ s: 'x\ud800' }, { s: '\udc00' }, { ['\ud83d']: 1 }, { f: () => 1 }, { n: 10n }, { d: new Date(0) }]) {
    assert.throws(() => canonicalJson(bad), ReprimageError, JSON.stringify(Object.keys(bad)));
  }
  assert.equal(canonicalJson({ s: '\ud83d\ude00' }), '{"s":"😀"}');
});
