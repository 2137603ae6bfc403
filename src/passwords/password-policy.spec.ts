import { passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  it('accepts 8 characters and 72 ASCII bytes', () => {
    expect(passwordProblem('abcdefgh')).toBeNull();
    expect(passwordProblem('a'.repeat(72))).toBeNull();
  });

  it('counts the 8-character minimum in characters, not bytes or UTF-16 units', () => {
    expect(passwordProblem('abcdefg')).toBe('password must be at least 8 characters');
    // 7 emoji are 14 UTF-16 units and 28 bytes, but still only 7 characters.
    expect(passwordProblem('\u{1F600}'.repeat(7))).toBe('password must be at least 8 characters');
    expect(passwordProblem('\u{1F600}'.repeat(8))).toBeNull();
  });

  it('counts the 72 maximum in UTF-8 bytes', () => {
    const tooLong = 'password must be at most 72 bytes in UTF-8';
    expect(passwordProblem('a'.repeat(73))).toBe(tooLong);
    expect(passwordProblem('é'.repeat(36))).toBeNull(); // 72 bytes
    expect(passwordProblem('é'.repeat(37))).toBe(tooLong); // 74 bytes, 37 characters
    expect(passwordProblem('\u{1F600}'.repeat(24))).toBe(tooLong); // 96 bytes, 24 characters
  });

  it('refuses values that are not strings', () => {
    for (const value of [undefined, null, 12345678, ['abcdefgh'], { $ne: null }]) {
      expect(passwordProblem(value)).toBe('password must be a string');
    }
  });
});
