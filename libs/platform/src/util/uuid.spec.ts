import { UUID_PATTERN, isCanonicalUuid, uuidFromBytes, uuidToBytes, uuidv7 } from './uuid';

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID', () => {
    for (let i = 0; i < 1000; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
    }
  });

  it('starts with the 48-bit millisecond timestamp, big-endian', () => {
    const now = Date.UTC(2026, 10, 26, 1, 2, 3, 456);
    const hex = uuidv7(now).replace(/-/g, '');
    expect(parseInt(hex.slice(0, 12), 16)).toBe(now);
    expect(uuidv7(0xffffffffffff).slice(0, 13)).toBe('ffffffff-ffff');
    expect(uuidv7(0).slice(0, 13)).toBe('00000000-0000');
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      if (Math.floor(i / 10) !== Math.floor((i - 1) / 10)) expect(ids[i] > ids[i - 1]).toBe(true);
    }
  });
});

describe('UUID bytes', () => {
  it('round-trips canonical UUIDs through 16 bytes, as Buffer hex reads them', () => {
    for (let i = 0; i < 200; i++) {
      const id = uuidv7();
      const out = Buffer.alloc(20);
      expect(isCanonicalUuid(id)).toBe(true);
      expect(uuidToBytes(id, out, 2)).toBe(18);
      expect(out.toString('hex', 2, 18)).toBe(id.replace(/-/g, ''));
      expect(uuidFromBytes(out, 2)).toBe(id);
    }
  });

  it('calls only lowercase canonical UUIDs canonical', () => {
    const id = '01a214a4-bf0c-7567-b411-9b1f4e5030c1';
    for (const v of [id.toUpperCase(), id.replace(/-/g, ''), `${id} `, id.slice(1), 'li-1', '', `{${id.slice(1, -1)}}`, id.replace('-', '_'), id.replace('a', 'g')]) {
      expect(isCanonicalUuid(v)).toBe(false);
    }
  });
});
