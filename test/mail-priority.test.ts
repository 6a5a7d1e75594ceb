import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_BANDS,
  bandValue,
  determinePriority,
  internalLevel,
  type PolicyName,
  type PriorityInputs,
} from '../src/mail/index.ts';

// Digest §2.6 rounding table, written out for every value (input → internal level).
const ROUNDING: Record<PolicyName, Record<number, number>> = {
  MIXER: { [-9]: -4, [-8]: -4, [-7]: -4, [-6]: -4, [-5]: -4, [-4]: -4, [-3]: 0, [-2]: 0, [-1]: 0, 0: 0, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4, 7: 4, 8: 4, 9: 4 },
  STANAG4406: { [-9]: -4, [-8]: -4, [-7]: -4, [-6]: -4, [-5]: -4, [-4]: -4, [-3]: -2, [-2]: -2, [-1]: 0, 0: 0, 1: 2, 2: 2, 3: 4, 4: 4, 5: 6, 6: 6, 7: 6, 8: 6, 9: 6 },
  NSEP: { [-9]: -2, [-8]: -2, [-7]: -2, [-6]: -2, [-5]: -2, [-4]: -2, [-3]: -2, [-2]: -2, [-1]: 0, 0: 0, 1: 2, 2: 2, 3: 4, 4: 4, 5: 6, 6: 6, 7: 6, 8: 6, 9: 6 },
};

describe('internalLevel: RFC 6710 §5 rounding (digest §2.6)', () => {
  for (const policy of Object.keys(ROUNDING) as PolicyName[]) {
    for (let v = -9; v <= 9; v++) {
      it(`${policy}: ${v} → ${ROUNDING[policy][v]}`, () => assert.equal(internalLevel(v, policy), ROUNDING[policy][v]));
    }
  }
  it('RFC 6710 §8 example: STANAG4406 handles 3 at level 4', () => assert.equal(internalLevel(3, 'STANAG4406'), 4));
});

describe('bandValue with DEFAULT_BANDS (decisions.md)', () => {
  const table: [number, number][] = [
    [-99, -4], [-40, -4], [-39, -2], [-20, -2], [-19, 0], [0, 0], [1, 2], [20, 2], [21, 4], [40, 4], [41, 6], [60, 6], [61, 9], [99, 9],
  ];
  for (const [draft, value] of table) {
    it(`PRIORITY ${draft} → MT-PRIORITY ${value}`, () => assert.equal(bandValue(draft, DEFAULT_BANDS), value));
  }
  it('every value -99..99 falls in exactly one band, and the mapping is monotonic', () => {
    let prev = -Infinity;
    for (let d = -99; d <= 99; d++) {
      assert.equal(DEFAULT_BANDS.filter((b) => d >= b.from && d <= b.to).length, 1, `value ${d}`);
      const v = bandValue(d, DEFAULT_BANDS);
      assert.ok(v >= prev && v >= -9 && v <= 9, `value ${d} → ${v}`);
      prev = v;
    }
  });
  it('a value outside every band throws', () => assert.throws(() => bandValue(100, DEFAULT_BANDS), RangeError));
});

const base = { bands: DEFAULT_BANDS, trustHeader: false, ceiling: 9, policy: 'STANAG4406' } as const satisfies Partial<PriorityInputs>;

describe('determinePriority (RFC 6710 §4.1, RFC 6758 §3.1, decisions.md)', () => {
  it('nothing given → 0 from policy, no change', () => {
    assert.deepEqual(determinePriority({ ...base }), { priority: { value: 0, source: 'policy' } });
  });
  it('the parameter wins over a trusted header', () => {
    const d = determinePriority({ ...base, trustHeader: true, headerValues: [6], request: { kind: 'mt-priority', value: 2 } });
    assert.deepEqual(d, { priority: { value: 2, source: 'mt-priority', requested: 2 } });
  });
  it('a single valid header is honoured when the source is trusted', () => {
    const d = determinePriority({ ...base, trustHeader: true, headerValues: [4] });
    assert.deepEqual(d.priority, { value: 4, source: 'header', requested: 4 });
    assert.equal(d.change, undefined);
  });
  it('a single valid header is ignored when the source is not trusted', () => {
    assert.deepEqual(determinePriority({ ...base, trustHeader: false, headerValues: [4] }).priority, { value: 0, source: 'policy' });
  });
  it('two headers are ignored, even when equal (RFC 6758 step 4a: exactly one)', () => {
    assert.deepEqual(determinePriority({ ...base, trustHeader: true, headerValues: [4, 4] }).priority, { value: 0, source: 'policy' });
    assert.deepEqual(determinePriority({ ...base, trustHeader: true, headerValues: [4, null] }).priority, { value: 0, source: 'policy' });
  });
  it('an invalid header is ignored', () => {
    assert.deepEqual(determinePriority({ ...base, trustHeader: true, headerValues: [null] }).priority, { value: 0, source: 'policy' });
  });
  it('a trusted header above the ceiling is lowered like a parameter', () => {
    const d = determinePriority({ ...base, trustHeader: true, headerValues: [6], ceiling: 2 });
    assert.equal(d.priority.value, 2);
    assert.ok(d.change);
  });
  it('untrusted client (ceiling 0) asking MT-PRIORITY=6 → 0, with a change text for 2.3.6 (digest §2.9)', () => {
    const d = determinePriority({ ...base, ceiling: 0, request: { kind: 'mt-priority', value: 6 } });
    assert.equal(d.priority.value, 0);
    assert.equal(d.priority.requested, 6);
    assert.equal(typeof d.change, 'string');
    assert.ok(d.change!.length > 0);
  });
  it('untrusted client lowering to a level the policy has (-4) → unchanged, no change text', () => {
    for (const policy of ['MIXER', 'STANAG4406'] as const) {
      const d = determinePriority({ ...base, policy, ceiling: 0, request: { kind: 'mt-priority', value: -4 } });
      assert.deepEqual(d, { priority: { value: -4, source: 'mt-priority', requested: -4 } });
    }
  });
  it('untrusted client lowering to -9 → kept as -9 from the parameter; any change text only reports the internal level', () => {
    for (const policy of ['MIXER', 'STANAG4406', 'NSEP'] as const) {
      const d = determinePriority({ ...base, policy, ceiling: 0, request: { kind: 'mt-priority', value: -9 } });
      assert.deepEqual(d.priority, { value: -9, source: 'mt-priority', requested: -9 });
      if (d.change !== undefined) {
        assert.match(d.change, new RegExp(`level ${ROUNDING[policy][-9]}\\b`));
        assert.doesNotMatch(d.change, /authori[sz]ed|lowered|using/i);
      }
    }
  });
  it('ceiling 4 asking 6 → 4', () => {
    const d = determinePriority({ ...base, ceiling: 4, request: { kind: 'mt-priority', value: 6 } });
    assert.equal(d.priority.value, 4);
    assert.equal(d.priority.requested, 6);
    assert.ok(d.change);
  });
  it('a request within the ceiling is kept', () => {
    assert.deepEqual(determinePriority({ ...base, ceiling: 6, request: { kind: 'mt-priority', value: 6 } }), {
      priority: { value: 6, source: 'mt-priority', requested: 6 },
    });
  });
  it('draft PRIORITY 40 → 4, source draft-priority, requested 40', () => {
    const d = determinePriority({ ...base, request: { kind: 'draft-priority', value: 40 } });
    assert.deepEqual(d.priority, { value: 4, source: 'draft-priority', requested: 40 });
  });
  it('draft PRIORITY 61 from an untrusted client → 0; -50 → -4 (lowering allowed)', () => {
    assert.equal(determinePriority({ ...base, ceiling: 0, request: { kind: 'draft-priority', value: 61 } }).priority.value, 0);
    assert.equal(determinePriority({ ...base, ceiling: 0, request: { kind: 'draft-priority', value: -50 } }).priority.value, -4);
  });
  it('MIXER with MT-PRIORITY=1: relayed value stays 1 (RFC 6710 §5), change text mentions level 4', () => {
    const d = determinePriority({ ...base, policy: 'MIXER', request: { kind: 'mt-priority', value: 1 } });
    assert.deepEqual(d.priority, { value: 1, source: 'mt-priority', requested: 1 });
    assert.match(d.change ?? '', /level 4\b/);
  });
  it('STANAG4406 with MT-PRIORITY=3: value stays 3 (RFC 6710 §8 example)', () => {
    assert.equal(determinePriority({ ...base, request: { kind: 'mt-priority', value: 3 } }).priority.value, 3);
  });

  it('property: never raises above the request, never above max(ceiling, 0), and keeps any value within both', () => {
    fc.assert(
      fc.property(fc.integer({ min: -9, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom<PolicyName>('MIXER', 'STANAG4406', 'NSEP'), (v, ceiling, policy) => {
        const d = determinePriority({ ...base, policy, ceiling, request: { kind: 'mt-priority', value: v } });
        assert.ok(d.priority.value <= v);
        assert.ok(d.priority.value <= Math.max(ceiling, 0));
        assert.ok(d.priority.value >= -9 && d.priority.value <= 9);
        if (v <= ceiling) assert.equal(d.priority.value, v);
        else assert.ok(d.change, 'a lowered priority must be reported');
        assert.equal(d.priority.requested, v);
      }),
    );
  });
  it('property: draft PRIORITY maps through the bands, then the ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: -99, max: 99 }), fc.integer({ min: 0, max: 9 }), (v, ceiling) => {
        const d = determinePriority({ ...base, ceiling, request: { kind: 'draft-priority', value: v } });
        const band = bandValue(v, DEFAULT_BANDS);
        assert.equal(d.priority.value, band > ceiling ? ceiling : band);
        assert.equal(d.priority.requested, v);
      }),
    );
  });
});
