import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeXtext, encodeXtext } from '../src/mail/index.ts';

// RFC 3461 section 4 / digest §4.2:
//   xtext = *( xchar / hexchar ); xchar = "!".."~" except "+" and "="; hexchar = "+" 2(upper-case HEXDIG)
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/;

const printableAscii = fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))) });
const anyAscii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) });

describe('xtext vectors (digest §4.2)', () => {
  const vectors: [raw: string, xtext: string][] = [
    ['bob+sales@example.com', 'bob+2Bsales@example.com'],
    ['a=b c', 'a+3Db+20c'],
    ['QQ314159', 'QQ314159'],
    ['', ''],
    ['+', '+2B'],
    ['=', '+3D'],
    ['\t\r\n', '+09+0D+0A'],
    ['\x7f', '+7F'],
    ['!~', '!~'],
  ];
  for (const [raw, xtext] of vectors) {
    it(`encodes ${JSON.stringify(raw)} as ${JSON.stringify(xtext)}`, () => {
      assert.equal(encodeXtext(raw), xtext);
    });
    it(`decodes ${JSON.stringify(xtext)} to ${JSON.stringify(raw)}`, () => {
      assert.equal(decodeXtext(xtext), raw);
    });
  }

  it('encodes hex digits in upper case', () => {
    assert.equal(encodeXtext('\u00ff'), '+C3+BF'); // U+00FF is sent as its UTF-8 octets
    assert.equal(encodeXtext('\x1f'), '+1F');
  });

  it('decodes any upper-case hexchar, including octets above 127, to the octet as latin1', () => {
    assert.equal(decodeXtext('+00'), '\x00');
    assert.equal(decodeXtext('+FF'), '\xff');
    assert.equal(decodeXtext('+41+42C'), 'ABC');
  });

  const invalid: [string, string][] = [
    ['+2b', 'lower-case hex'],
    ['A+2b', 'lower-case hex after text'],
    ['+2B+2b', 'second hexchar lower-case'],
    ['+G1', 'non-hex digit'],
    ['+1G', 'non-hex second digit'],
    ['abc+', 'trailing +'],
    ['abc+2', 'truncated hexchar'],
    ['+', 'lone +'],
    ['a b', 'space'],
    [' ', 'only a space'],
    ['a=b', '='],
    ['=', 'lone ='],
    ['a\tb', 'control character'],
    ['a\x7fb', 'DEL'],
    ['caf\u00e9', 'non-ASCII character'],
    ['+ 20', '+ followed by space'],
  ];
  for (const [text, why] of invalid) {
    it(`rejects ${JSON.stringify(text)} (${why}) with null`, () => {
      assert.equal(decodeXtext(text), null);
    });
  }
});

describe('xtext properties', () => {
  it('decode(encode(s)) === s for any ASCII string', () => {
    fc.assert(fc.property(anyAscii, (s) => decodeXtext(encodeXtext(s)) === s));
  });

  it('encode leaves printable ASCII other than "+", "=" and space unchanged', () => {
    fc.assert(
      fc.property(printableAscii, (s) => {
        const plain = s.replace(/[+= ]/g, '');
        return encodeXtext(plain) === plain;
      }),
    );
  });

  it('non-ASCII text is encoded as UTF-8 octets: decode gives those octets back as latin1', () => {
    fc.assert(
      fc.property(latin1, (s) => {
        const decoded = decodeXtext(encodeXtext(s));
        assert.notEqual(decoded, null);
        assert.equal(Buffer.from(decoded!, 'latin1').toString('utf8'), s);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const decoded = decodeXtext(encodeXtext(s));
        assert.equal(Buffer.from(decoded!, 'latin1').toString('utf8'), s);
      }),
    );
  });

  it('encode output only contains xchar and hexchar', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => XTEXT.test(encodeXtext(s))));
    fc.assert(fc.property(latin1, (s) => XTEXT.test(encodeXtext(s))));
  });

  it('encode is injective on ASCII: different inputs give different xtext', () => {
    fc.assert(fc.property(anyAscii, anyAscii, (a, b) => a === b || encodeXtext(a) !== encodeXtext(b)));
  });

  it('decode never throws, and accepts exactly the strings matching the xtext grammar', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), latin1, fc.string({ unit: fc.constantFrom('+', '2', 'B', 'b', 'G', 'A', '=', ' ', 'x') })), (s) => {
        const out = decodeXtext(s);
        assert.equal(out !== null, XTEXT.test(s), `decodeXtext(${JSON.stringify(s)}) = ${JSON.stringify(out)}`);
      }),
    );
  });

  it('decoding valid xtext and re-encoding the octets gives the same xtext back (canonical form)', () => {
    const xtextArb = fc
      .array(fc.oneof(fc.constantFrom(...'!"#$%&\'()*,-./09:;<>?@AZ[\\]^_`az{|}~'.split('')), fc.integer({ min: 0, max: 255 }).filter((b) => b < 33 || b > 126 || b === 0x2b || b === 0x3d).map((b) => '+' + b.toString(16).toUpperCase().padStart(2, '0'))))
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(xtextArb, (x) => {
        const decoded = decodeXtext(x);
        assert.notEqual(decoded, null);
        // Re-encode the octets one by one (encodeXtext works on UTF-8, so go through each octet as ASCII or +HH).
        const reencoded = Array.from(Buffer.from(decoded!, 'latin1'), (b) =>
          b >= 33 && b <= 126 && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : '+' + b.toString(16).toUpperCase().padStart(2, '0'),
        ).join('');
        assert.equal(reencoded, x);
        if (/^[\x00-\x7f]*$/.test(decoded!)) assert.equal(encodeXtext(decoded!), x);
      }),
    );
  });
});
