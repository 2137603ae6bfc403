import { assertValidEntityName, storageNameForSlug, tenantCollectionName } from './storage-names';

/** The subset of `inputs` for which `fn` does not throw, so a failure lists exactly the wrongly accepted ones. */
function notThrowing(inputs: string[], fn: (input: string) => unknown): string[] {
  return inputs.filter((input) => {
    try {
      fn(input);
      return true;
    } catch {
      return false;
    }
  });
}

describe('storageNameForSlug', () => {
  it('prefixes a short slug with org_', () => {
    expect(storageNameForSlug('acme_corp')).toBe('org_acme_corp');
  });

  it('keeps the plain form up to 62 characters', () => {
    const slug = 'a'.repeat(58);
    expect(storageNameForSlug(slug)).toBe(`org_${slug}`);
    expect(storageNameForSlug(slug)).toHaveLength(62);
  });

  it('shortens longer slugs to exactly 63 characters ending in a hash', () => {
    for (const length of [59, 60, 64, 200]) {
      expect(storageNameForSlug('b'.repeat(length))).toMatch(/^org_b{27}[0-9a-f]{32}$/);
    }
  });

  it('never gives a hashed name that is also the plain name of another slug', () => {
    const hashed = storageNameForSlug('c'.repeat(64));
    // The slug whose plain name would be `hashed` is itself too long for the plain form.
    const lookalike = hashed.slice('org_'.length);
    expect(lookalike).toMatch(/^[a-z0-9]+$/);
    expect(storageNameForSlug(lookalike)).not.toBe(hashed);

    const lengths = Array.from({ length: 64 }, (_, index) => storageNameForSlug('e'.repeat(index + 1)).length);
    expect(lengths.filter((length) => length > 62)).toEqual([63, 63, 63, 63, 63, 63]);
  });

  it('gives different names to long slugs that share a long prefix', () => {
    const prefix = 'acme_corporation_international_holdings_group_of_companies';
    const first = storageNameForSlug(`${prefix}_one`);
    const second = storageNameForSlug(`${prefix}_two`);
    expect(first.slice(0, 31)).toBe(second.slice(0, 31));
    expect(first).not.toBe(second);
    expect(storageNameForSlug(`${prefix}_one`)).toBe(first);
  });

  it('throws on anything that is not a valid slug', () => {
    const invalid = ['', 'a__b', '_a', 'a_', 'A', 'a-b', '../x', 'a.b', 'a b', 'a$b', 'a\u0000'];
    expect(notThrowing(invalid, storageNameForSlug)).toEqual([]);
    expect(() => storageNameForSlug('../x')).toThrow(/invalid slug/);
  });
});

describe('assertValidEntityName', () => {
  it('accepts 1 to 40 lower-case letters, digits and single underscores starting with a letter', () => {
    const valid = ['notes', 'a', 'audit_log', 'v2_items', 'x'.repeat(40)];
    expect(notThrowing(valid, assertValidEntityName)).toEqual(valid);
  });

  it('refuses data, double underscores, upper case, a leading digit or underscore and more than 40 characters', () => {
    const invalid = ['data', 'a__b', 'Notes', '2notes', '_notes', 'notes_', '', 'x'.repeat(41), 'no-tes', 'a.b'];
    expect(notThrowing(invalid, assertValidEntityName)).toEqual([]);
  });
});

describe('tenantCollectionName', () => {
  it('uses the storage name for the default entity and appends __<entity> for the others', () => {
    expect(tenantCollectionName('org_acme', null)).toBe('org_acme');
    expect(tenantCollectionName('org_acme', 'notes')).toBe('org_acme__notes');
  });
});
