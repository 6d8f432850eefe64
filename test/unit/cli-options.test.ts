import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIntOption } from '../../src/cli/pack.js';

test('whole-number options take decimal or 0x hexadecimal (as isohybrid --id), within bounds', () => {
  assert.equal(parseIntOption('1592594996', '--mbr-id', 0, 0xffffffff), 0x5eed1234);
  assert.equal(parseIntOption('0x5EED1234', '--mbr-id', 0, 0xffffffff), 0x5eed1234);
  assert.equal(parseIntOption('0xffffffff', '--mbr-id', 0, 0xffffffff), 0xffffffff);
  for (const bad of ['0x100000000', '-1', '12a', '0x', '1e3', ' 1', '']) {
    assert.throws(() => parseIntOption(bad, '--mbr-id', 0, 0xffffffff), /--mbr-id: expected a whole number from 0 to 4294967295 \(or 0x… hexadecimal\)/, bad);
  }
});
