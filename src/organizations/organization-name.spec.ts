import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { IsOrganizationName, toSlug } from './organization-name';

class NameDto {
  @IsOrganizationName()
  name: unknown;
}

/** The names of the constraints `name` breaks, after the DTO's own transformation. */
async function problemsFor(name: unknown): Promise<string[]> {
  const errors = await validate(plainToInstance(NameDto, { name }));
  return errors.flatMap((error) => Object.keys(error.constraints ?? {}));
}

/** The subset of `names` that pass validation, so a failure lists exactly the wrongly accepted ones. */
async function accepted(names: unknown[]): Promise<unknown[]> {
  const results = await Promise.all(names.map(async (name) => ((await problemsFor(name)).length === 0 ? [name] : [])));
  return results.flat();
}

describe('toSlug', () => {
  it('folds case, runs of spaces and punctuation to one _, and trims punctuation at the ends', () => {
    const names = ['Acme Corp', ' ACME  corp. ', 'acme-corp', 'Acme_Corp', 'acme.corp', '--Acme -_. Corp__'];
    expect(names.map(toSlug)).toEqual(names.map(() => 'acme_corp'));
  });

  it('keeps digits and separates each run of letters and digits once', () => {
    expect(toSlug('Team 42 v2.0')).toBe('team_42_v2_0');
  });
});

describe('IsOrganizationName', () => {
  it('accepts names of 2 to 64 letters, digits, spaces, "-", "_" and "."', async () => {
    const names = ['Acme Corp', 'ab', '42', 'acme-corp_2.0', 'a'.repeat(64)];
    expect(await accepted(names)).toEqual(names);
  });

  it('trims the value through plainToInstance, and checks the length after trimming', async () => {
    const dto = plainToInstance(NameDto, { name: '   Acme Corp  ' });
    expect(dto.name).toBe('Acme Corp');
    expect(await validate(dto)).toEqual([]);
    expect(await accepted([`  ${'a'.repeat(64)}  `, '  a  '])).toEqual([`  ${'a'.repeat(64)}  `]);
  });

  it('refuses names that are too short or too long', async () => {
    expect(await accepted(['', 'a', 'a'.repeat(65)])).toEqual([]);
  });

  it('refuses names without a letter or digit', async () => {
    expect(await accepted(['-_.', ' . . ', '__', '..'])).toEqual([]);
  });

  it('refuses operator, path, control, invisible, bidirectional and look-alike characters', async () => {
    const names = [
      'acme$corp',
      '$where',
      'acme/corp',
      'acme\u0000corp',
      'acme\ncorp',
      'acme\u200bcorp', // zero-width space
      'acme\u202ecorp', // right-to-left override
      '\u0430cme corp', // Cyrillic "а"
    ];
    expect(await accepted(names)).toEqual([]);
    expect(await problemsFor('acme$corp')).toContain('matches');
  });

  it('refuses values that are not strings', async () => {
    for (const name of [42, null, ['Acme Corp'], { $ne: null }]) {
      expect(await problemsFor(name)).toContain('isString');
    }
  });
});
