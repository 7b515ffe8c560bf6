import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { decodePermittedNames, encodePermittedNames } from './name-constraints.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('NameConstraints DER', () => {
  it('encodes permitted DNS and URI subtrees as RFC 5280 lays them out', () => {
    // SEQUENCE { [0] { SEQUENCE { [2] "a.io" }, SEQUENCE { [6] "b.io" } } }
    assert.equal(hex(encodePermittedNames({ dns: ['a.io'], uri: ['b.io'] })), '3012a010300682046' + '12e696f' + '30068604622e696f');
  });
  it('round-trips many names, including long-form lengths', () => {
    const names = { dns: Array.from({ length: 40 }, (_, i) => `zone${i}.example`), uri: ['acme.landlord.local'] };
    assert.deepEqual(decodePermittedNames(encodePermittedNames(names)), names);
  });
  it('refuses to encode constraints that permit nothing explicitly', () => {
    assert.throws(() => encodePermittedNames({ dns: [], uri: [] }), (error) => isLandlordError(error, 'LL_PKI_NAME_CONSTRAINTS_EMPTY'));
  });
  it('refuses non-ASCII names', () => {
    assert.throws(() => encodePermittedNames({ dns: ['bücher.example'], uri: [] }), (error) => isLandlordError(error, 'LL_PKI_NAME_CONSTRAINTS_UNSUPPORTED'));
  });
  const unsupported: { name: string; der: string }[] = [
    { name: 'fails closed on excluded subtrees', der: '300aa1083006820461 2e696f'.replace(/ /g, '') },
    { name: 'fails closed on other name forms (rfc822Name)', der: '300aa00830068104612e696f' },
    { name: 'fails closed on a subtree with a maximum', der: '300da00b30098204612e696f810101' },
    { name: 'fails closed on truncated input', der: '3012a01030068204' },
    { name: 'fails closed on trailing bytes', der: '3008a006300482022e6900' },
  ];
  for (const { name, der } of unsupported) {
    it(name, () => {
      assert.throws(() => decodePermittedNames(Buffer.from(der, 'hex')), (error) => isLandlordError(error, 'LL_PKI_NAME_CONSTRAINTS_UNSUPPORTED'));
    });
  }
});
